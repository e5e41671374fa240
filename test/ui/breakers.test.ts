import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
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
    {},
    `_format_version: "3.0"
services:
  - name: guarded
    url: ${echo.url}
    routes: [{ name: guarded, paths: [/guarded] }]
    plugins:
      - name: circuit-breaker
        config: { open_seconds: 60 }
`,
    [],
  )
})

after(async () => {
  await browser?.close()
  await node?.stop()
  await echo?.close()
})

test('the circuit-breakers page lists each breaker with its state; its button forces it open and closed', async () => {
  const page = await newPage(browser)
  await page.goto(`${node.admin}/ui/#/circuit-breakers`)
  const row = page.locator('tr[data-breaker]')
  await row.waitFor()
  assert.equal(await row.getAttribute('data-state'), 'closed')
  assert.match((await row.textContent()) ?? '', /guarded.*whole service.*closed.*local/)

  await row.getByRole('button', { name: 'Force open' }).click()
  await page.locator('tr[data-state=forced_open]').waitFor()
  const r = await call(`${node.proxy}/guarded`)
  assert.equal(r.status, 503, 'forced open from the UI: the proxy fails fast')
  assert.ok(r.headers['retry-after'] !== undefined)
  await page.screenshot({ path: screenshotPath('circuit-breakers.png'), fullPage: true })

  await page.locator('tr[data-breaker]').getByRole('button', { name: 'Close' }).click()
  await page.locator('tr[data-state=closed]').waitFor()
  assert.equal((await call(`${node.proxy}/guarded`)).status, 200)
  await page.close()
})
