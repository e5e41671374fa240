import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { DEFAULT_ANALYTICS } from '../../src/analytics/index.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { launch, newPage, screenshotPath } from '../fixtures/browser.js'
import { call, type Upstream, upstream } from '../fixtures/helpers.js'

let browser: Browser
let node: AdminNode
let echo: Upstream

before(async () => {
  browser = await launch()
  echo = await upstream('echo')
  node = await adminNode(
    { analytics: { ...DEFAULT_ANALYTICS, flushMs: 500 }, trustedIps: '127.0.0.1' },
    null,
    [],
  )
})

after(async () => {
  await browser?.close()
  await node?.stop()
  await echo?.close()
})

async function open(hash: string): Promise<Page> {
  const page = await newPage(browser)
  await page.goto(`${node.admin}/ui/#/${hash}`)
  return page
}

test('the dashboard shows the live numbers of the traffic sent', async () => {
  const second = await upstream('echo-2')
  const made = async (path: string, body: Record<string, unknown>): Promise<void> =>
    assert.equal((await node.req('POST', path, body)).status, 201, `${path} ${JSON.stringify(body)}`)
  try {
    await made('/upstreams', { name: 'dash-up' })
    for (const u of [echo, second])
      await made('/upstreams/dash-up/targets', { target: `127.0.0.1:${u.port}` })
    await made('/services', { name: 'dash', url: 'http://dash-up' })
    await made('/services/dash/routes', { name: 'dash-route', paths: ['/dash'] })
    await made('/routes/dash-route/plugins', { name: 'key-auth' })
    await made('/services/dash/routes', { name: 'dash-cached', paths: ['/cached'] })
    await made('/routes/dash-cached/plugins', {
      name: 'proxy-cache',
      config: { strategy: 'memory' },
    })
    await made('/services/dash/routes', { name: 'dash-limited', paths: ['/limited'] })
    const limit = { name: 'rate-limiting', config: { minute: 3, limit_by: 'ip' } }
    await made('/routes/dash-limited/plugins', limit)
    for (const user of ['alice', 'bob']) {
      await made('/consumers', { username: user })
      await made(`/consumers/${user}/key-auth`, { key: `${user}-key` })
    }
    // 32 requests from 20 clients: alice 12, bob 6, 5 cacheable (4 hits), 6 limited (3 refused), 3 unrouted
    let i = 0
    const send = async (path: string, headers: Record<string, string> = {}) =>
      (
        await call(`${node.proxy}${path}`, {
          headers: { 'x-forwarded-for': `10.1.0.${i++ % 20}`, ...headers },
        })
      ).status
    for (let k = 0; k < 12; k++) assert.equal(await send(`/dash/${k % 3}`, { apikey: 'alice-key' }), 200)
    for (let k = 0; k < 6; k++) assert.equal(await send('/dash/b', { apikey: 'bob-key' }), 200)
    for (let k = 0; k < 5; k++) assert.equal(await send('/cached/c'), 200)
    const limited = []
    for (let k = 0; k < 6; k++) limited.push(await send('/limited/x', { 'x-forwarded-for': '10.1.0.1' }))
    assert.deepEqual(limited, [200, 200, 200, 429, 429, 429])
    for (let k = 0; k < 3; k++) assert.equal(await send('/nowhere'), 404)

    const page = await open('dashboard')
    const tile = (id: string) => page.locator(`[data-tile=${id}] .value`)
    await page.locator('[data-tile=requests] .value', { hasText: /^32$/ }).waitFor()
    assert.equal(await tile('errors').textContent(), '18.8 %') // 3 × 429 + 3 × 404 of 32
    assert.equal(await tile('cache').textContent(), '12.5 %') // 4 hits of 32
    assert.equal(await tile('limited').textContent(), '3')
    assert.equal(await tile('uniques').textContent(), '20')
    assert.match((await tile('p95').textContent()) ?? '', /^\d+(\.\d)? ms$/)
    const consumers = page.locator('[data-top=consumers] tr')
    await consumers.first().waitFor()
    assert.deepEqual(await consumers.allTextContents(), ['alice12', 'bob6'])
    await page.locator('[data-top=routes] tr', { hasText: 'dash-route18' }).waitFor()
    await page.locator('[data-top=health] tr', { hasText: `127.0.0.1:${second.port}` }).waitFor()
    await page.locator('[data-top=nodes] tr', { hasText: 'generation' }).waitFor()
    await page.locator('.chart .uplot').first().waitFor()
    // more traffic: the page follows without a reload
    for (let k = 0; k < 5; k++) await send('/dash/x', { apikey: 'alice-key' })
    await page.locator('[data-tile=requests] .value', { hasText: /^37$/ }).waitFor()
    await page.locator('[data-top=consumers] tr', { hasText: 'alice17' }).waitFor()
    await page.screenshot({ path: screenshotPath('dashboard.png'), fullPage: true })
    await page.close()
  } finally {
    await second.close()
  }
})

test('a service, a route with key-auth and a key made in the UI serve through the proxy', async () => {
  const page = await open('services')
  await page.getByRole('button', { name: 'New service' }).click()
  await page.fill('#f-name', 'ui-made')
  await page.fill('#f-url', `${echo.url}/base`)
  await page.getByRole('button', { name: 'Create' }).click()
  await page.locator('tr[data-row=ui-made]').waitFor()

  await page.goto(`${node.admin}/ui/#/routes`)
  await page.getByRole('button', { name: 'New route' }).click()
  await page.fill('#f-name', 'ui-route')
  await page.locator('#f-service option', { hasText: 'ui-made' }).waitFor({ state: 'attached' })
  await page.selectOption('#f-service', { label: 'ui-made' })
  await page.fill('#f-paths', '/from-ui')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.locator('tr[data-row=ui-route]').waitFor()

  await page.goto(`${node.admin}/ui/#/plugins`)
  await page.getByRole('button', { name: 'New plugin' }).click()
  await page.locator('#p-name option', { hasText: /^key-auth$/ }).waitFor({ state: 'attached' })
  await page.selectOption('#p-name', 'key-auth')
  await page.locator('#p-route option', { hasText: 'ui-route' }).waitFor({ state: 'attached' })
  await page.selectOption('#p-route', { label: 'ui-route' })
  // the schema's default is filled in
  assert.equal(await page.inputValue('#cfg-key_names'), 'apikey')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.locator('tr[data-row=key-auth]', { hasText: 'route ui-route' }).waitFor()

  await page.goto(`${node.admin}/ui/#/consumers`)
  await page.getByRole('button', { name: 'New consumer' }).click()
  await page.fill('#f-username', 'ui-user')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.locator('tr[data-row=ui-user]').getByRole('button', { name: 'Key-auth keys' }).click()
  await page.getByRole('button', { name: 'New key' }).click()
  await page.fill('#f-key', 'ui-secret-key')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.locator('.children tr[data-row=ui-secret-key]').waitFor()
  await page.close()

  const refused = await call(`${node.proxy}/from-ui/x`)
  assert.equal(refused.status, 401)
  assert.equal((refused.json() as { message: string }).message, 'No API key found in request')
  const served = await call(`${node.proxy}/from-ui/x`, { headers: { apikey: 'ui-secret-key' } })
  assert.equal(served.status, 200)
  assert.equal((served.json() as { url: string }).url, '/base/x')
})

test("a schema error shows the server's message next to its field", async () => {
  const direct = await node.req('POST', '/plugins', { name: 'rate-limiting', config: { minute: -5 } })
  assert.equal(direct.status, 400)
  const expected = (direct.body.fields as { config: { minute: string } }).config.minute
  assert.ok(expected.length > 0)

  const page = await open('plugins')
  await page.getByRole('button', { name: 'New plugin' }).click()
  await page.locator('#p-name option', { hasText: /^rate-limiting$/ }).waitFor({ state: 'attached' })
  await page.selectOption('#p-name', 'rate-limiting')
  await page.locator('#cfg-minute').waitFor()
  assert.equal(await page.inputValue('#cfg-policy'), 'local') // default from the schema
  await page.fill('#cfg-minute', '-5')
  await page.getByRole('button', { name: 'Create' }).click()
  const message = page.locator('[data-field=minute] [data-error=minute]')
  await message.waitFor()
  assert.equal(await message.textContent(), expected)
  await page.locator('form[aria-label=Plugin]').screenshot({ path: screenshotPath('plugin-form.png') })
  await page.close()
})

test('delete asks for confirmation, and Cancel keeps the entity', async () => {
  await node.req('POST', '/consumers', { username: 'doomed' })
  const page = await open('consumers')
  const row = page.locator('tr[data-row=doomed]')
  await row.getByRole('button', { name: 'Delete' }).click()
  const dialog = page.getByRole('dialog', { name: 'Confirm delete' })
  await dialog.waitFor()
  assert.match((await dialog.textContent()) ?? '', /Delete consumer doomed\?/)
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await dialog.waitFor({ state: 'detached' })
  assert.equal((await node.req('GET', '/consumers/doomed')).status, 200)

  await row.getByRole('button', { name: 'Delete' }).click()
  await dialog.getByRole('button', { name: 'Confirm delete' }).click()
  await row.waitFor({ state: 'detached' })
  assert.equal((await node.req('GET', '/consumers/doomed')).status, 404)
  await page.close()
})

test('with an admin token set, the UI shows nothing until the token is given', async () => {
  const token = 'ui-test-token-0123456789'
  const locked = await adminNode({ adminToken: token }, null, [])
  try {
    assert.equal((await locked.req('GET', '/analytics/summary')).status, 401)
    const page = await newPage(browser)
    await page.goto(`${locked.admin}/ui/`)
    const form = page.getByRole('form', { name: 'Admin token' })
    await form.waitFor()
    assert.equal(await page.locator('[data-tile]').count(), 0)
    await page.fill('#token', 'wrong-token-wrong-token')
    await form.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('.login .error', { hasText: 'admin token' }).waitFor()
    await page.fill('#token', token)
    await form.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('[data-tile=requests]').waitFor()
    await page.close()
  } finally {
    await locked.stop()
  }
})

test('a config import shows the diff against the current configuration before it applies', async () => {
  await node.req('POST', '/services', { name: 'renamed-before', url: echo.url })
  const page = await open('operations')
  await page.getByRole('button', { name: 'Edit the current configuration' }).click()
  const area = page.getByRole('textbox', { name: 'declarative configuration to import' })
  await area.fill((await area.inputValue()).replace('name: renamed-before', 'name: renamed-after'))
  assert.equal(await page.getByRole('button', { name: 'Apply import' }).isDisabled(), true)
  await page.getByRole('button', { name: 'Show diff' }).click()
  const diff = page.locator('.diff')
  assert.equal(await diff.getAttribute('data-diff'), '2')
  assert.deepEqual(await diff.locator('.del, .add').allTextContents(), [
    '-     name: renamed-before',
    '+     name: renamed-after',
  ])
  assert.equal((await node.req('GET', '/services/renamed-before')).status, 200) // nothing applied yet
  await page.getByRole('button', { name: 'Apply import' }).click()
  await page.locator('.ok.banner').waitFor()
  assert.equal((await node.req('GET', '/services/renamed-after')).status, 200)
  assert.equal((await node.req('GET', '/services/renamed-before')).status, 404)
  await page.close()
})

test('the UI is not on the proxy port', async () => {
  const res = await call(`${node.proxy}/ui/`)
  assert.equal(res.status, 404)
  assert.doesNotMatch(res.text, /<html/)
})
