import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { declarativeConsumers } from '../../demo/consumers.js'
import { startAuth } from '../../demo/services/auth.js'
import type { DemoServer } from '../../demo/services/types.js'
import { authCurlLines, DEMO_CONFIG } from '../../src/cli/demo.js'
import { call, gateway, type Upstream, upstream } from '../fixtures/helpers.js'

const run = promisify(execFile)
const README = new URL('../../../README.md', import.meta.url)

describe('demo authentication: the auth service, the jwt and key-auth routes, the printed curl lines', () => {
  let auth: DemoServer | undefined
  const others: Upstream[] = []
  let gw: Awaited<ReturnType<typeof gateway>> | undefined
  const base = () => gw!.url

  before(async () => {
    // the real auth service on a free port; recording stand-ins for the other demo services
    auth = await startAuth({ port: 0, host: '127.0.0.1' })
    let text = readFileSync(DEMO_CONFIG, 'utf8').replaceAll('127.0.0.1:9106', `127.0.0.1:${auth.port}`)
    for (let port = 9101; port <= 9105; port++) {
      const up = await upstream(`demo-${port}`)
      others.push(up)
      text = text.replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${up.port}`)
    }
    gw = await gateway(text)
  })
  after(async () => {
    await gw?.stop()
    await auth?.close()
    await Promise.all(others.map((u) => u.close()))
  })

  test("the demo file's consumers are demo/consumers.ts's (the auth service signs with the same secrets)", () => {
    const file = parse(readFileSync(DEMO_CONFIG, 'utf8')) as { consumers: unknown }
    assert.deepEqual(file.consumers, declarativeConsumers())
  })

  test('a token from POST /auth/token opens /api/resource (jwt); an API key opens /api/keyed (key-auth)', async () => {
    const issued = await call(`${base()}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: 'bob-password' }),
    })
    assert.equal(issued.status, 200, issued.text)
    const token = (issued.json() as { access_token: string }).access_token
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { alg: string }
    assert.equal(header.alg, 'HS256')
    const ok = await call(`${base()}/api/resource`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(ok.status, 200, ok.text)
    assert.deepEqual(ok.json(), { resource: 'protected', user: 'bob' })

    const keyed = await call(`${base()}/api/keyed`, { headers: { apikey: 'bob-key' } })
    assert.deepEqual(keyed.json(), { resource: 'protected', user: 'bob' })
    assert.equal((await call(`${base()}/api/keyed?apikey=bob-key`)).status, 200)

    for (const [path, headers, message] of [
      ['/api/resource', {}, 'Unauthorized'],
      ['/api/resource', { authorization: 'Bearer not.a.jwt' }, 'Bad token; invalid JSON'],
      ['/api/resource', { apikey: 'bob-key' }, 'Unauthorized'],
      ['/api/keyed', {}, 'No API key found in request'],
      ['/api/keyed', { apikey: 'wrong' }, 'Unauthorized'],
      ['/api/keyed', { authorization: `Bearer ${token}` }, 'No API key found in request'],
    ] as const) {
      const r = await call(`${base()}${path}`, { headers })
      assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`)
      assert.equal((r.json() as { message: string }).message, message)
    }
    // CORS (priority 2000) answers a browser's preflight before jwt (1450) asks for a token
    const preflight = await call(`${base()}/api/resource`, {
      method: 'OPTIONS',
      headers: { origin: 'https://ui.example.com', 'access-control-request-method': 'GET' },
    })
    assert.equal(preflight.status, 200)
    assert.equal(preflight.headers['access-control-allow-origin'], '*')
    const wrong = await call(`${base()}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: 'nope' }),
    })
    assert.equal(wrong.status, 401)
  })

  test('the curl lines `portico demo` prints (and the README shows) work as printed', async () => {
    const lines = authCurlLines(base()).split('\n')
    // each line runs in one bash, in order (the first sets TOKEN); outputs are told apart by markers
    const script = lines.map((l, i) => `echo "@@${i}"\n${l.trim()}\necho`).join('\n')
    const { stdout } = await run('bash', ['-c', `set -eu\n${script}`], { timeout: 30_000 })
    const out = stdout.split(/^@@\d+\n/m).slice(1)
    assert.equal(out.length, lines.length, stdout)
    assert.equal(out[0]!.trim(), '', 'TOKEN is set quietly')
    assert.deepEqual(JSON.parse(out[1]!), { resource: 'protected', user: 'alice' })
    assert.deepEqual(JSON.parse(out[2]!), { resource: 'protected', user: 'alice' })
    assert.match(out[3]!, /^HTTP\/1\.1 401/)
    assert.match(out[3]!, /www-authenticate: Bearer/i)
    assert.deepEqual(JSON.parse(out[4]!), { message: 'revoked' })
    // after the logout the same line is refused
    const again = await run('bash', [
      '-c',
      `set -eu\n${lines[0]!.trim()}\n${lines[4]!.trim()}\n${lines[1]!.trim()}`,
    ])
    assert.match(again.stdout, /"message":"Token revoked"/)
  })

  test('the README shows the same curl lines, for localhost:8000', () => {
    const readme = readFileSync(README, 'utf8')
    for (const line of authCurlLines('localhost:8000').split('\n')) {
      assert.ok(readme.includes(line.trim()), line.trim())
    }
  })
})
