import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { runScenarioCli, SCENARIO_EXIT } from '../../bench/scenario/cli.js'
import { type DemoServices, startDemoServices } from '../../demo/services/index.js'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'
import { call } from '../fixtures/helpers.js'

function sink() {
  const chunks: string[] = []
  return {
    write: (s: string) => chunks.push(s),
    get text() {
      return chunks.join('')
    },
  }
}

/** A gateway file like the demo's: every demo service behind a route, plus one route of its own. */
function stackConfig(d: DemoServices): string {
  const s = d.services
  return `_format_version: "3.0"
services:
  - { name: inference-python, url: "${s['inference-a'].url}/infer", routes: [{ name: infer-python, paths: [/infer/python] }] }
  - { name: inference-node, url: "${s['inference-b'].url}/infer", routes: [{ name: infer-node, paths: [/infer/node] }] }
  - { name: inference-flaky, url: "${s['inference-flaky'].url}/infer", routes: [{ name: infer-flaky, paths: [/infer/flaky] }] }
  - { name: users, host: users.upstream, path: /users, routes: [{ name: users, paths: [/api/users] }] }
  - { name: slow, url: "${s.slow.url}/slow", routes: [{ name: slow, paths: [/slow] }] }
  - { name: auth, url: "${s.auth.url}/token", routes: [{ name: keep, paths: [/keep] }] }
upstreams:
  - name: users.upstream
    targets:
      - { target: "${new URL(s['users-1'].url).host}" }
      - { target: "${new URL(s['users-2'].url).host}" }
`
}

/**
 * `portico bench scenario … --gateway URL --admin-url URL`: the scenario drives a running gateway
 * (the compose stack's) instead of starting its own: each run's configuration goes through the
 * gateway's Admin API, the runs use the demo services behind it, and its configuration is put
 * back at the end.
 */
describe('bench scenario against a running gateway', () => {
  let demo: DemoServices
  let gw: AdminNode

  before(async () => {
    demo = await startDemoServices({
      host: '127.0.0.1',
      basePort: 0,
      latency: { slowMs: 20, inferenceMs: 2 },
    })
    gw = await adminNode({}, stackConfig(demo), [])
  })
  after(async () => {
    await gw?.stop()
    await demo?.close()
  })

  test('baseline-vs-optimized through the gateway: its cache counted, its configuration restored', async () => {
    const before = await gw.req('GET', '/config?format=json')
    const dir = mkdtempSync(join(tmpdir(), 'portico-scenario-external-'))
    const stdout = sink()
    const stderr = sink()
    const argv = ['baseline-vs-optimized', '--gateway', gw.proxy, '--admin-url', gw.admin]
    const code = await runScenarioCli([...argv, '--vus', '4', '-d', '800ms', '-q', '--out-dir', dir], {
      stdout,
      stderr,
      env: {},
    })
    assert.equal(code, SCENARIO_EXIT.OK, stderr.text)
    const json = JSON.parse(readFileSync(join(dir, 'baseline-vs-optimized.json'), 'utf8'))
    assert.deepEqual(json.gateway, { url: gw.proxy, adminUrls: [gw.admin] })
    const [base, opt] = json.runs
    assert.ok(base.result.requests > 0 && base.result.failed === 0, JSON.stringify(base.result.statusCounts))
    assert.equal(base.cacheHitRatio, 0)
    // read from the gateway's /metrics: the optimized run's cache answered
    assert.ok(opt.cache.Hit > 0 && opt.cache.Miss > 0, JSON.stringify(opt.cache))
    // the slow service behind the gateway was found and asked: collapsed misses, 12 pages at most
    assert.ok(opt.originHits !== null && opt.originHits <= 12, String(opt.originHits))
    assert.match(
      readFileSync(join(dir, 'baseline-vs-optimized.md'), 'utf8'),
      /the running gateway at http:\/\/127\.0\.0\.1:\d+/,
    )
    // the gateway runs its own configuration again
    const after = await gw.req('GET', '/config?format=json')
    assert.deepEqual(after.body, before.body)
    assert.notEqual((await call(`${gw.proxy}/keep`, { method: 'POST', body: '{}' })).status, 404)
  })

  test('a gateway without the demo services behind it, or no Admin API: refused with the reason', async () => {
    const other = await adminNode({}, '_format_version: "3.0"\n', [])
    try {
      const stderr = sink()
      const code = await runScenarioCli(
        ['inference', '--gateway', other.proxy, '--admin-url', other.admin, '-d', '200ms', '-q'],
        { stdout: sink(), stderr, env: {} },
      )
      assert.equal(code, SCENARIO_EXIT.UNAVAILABLE)
      assert.match(stderr.text, /does not point at every demo service \(missing: inference-a, /)
    } finally {
      await other.stop()
    }
    const usage = sink()
    assert.equal(
      await runScenarioCli(['inference', '--gateway', gw.proxy], { stdout: sink(), stderr: usage, env: {} }),
      SCENARIO_EXIT.USAGE,
    )
    assert.match(usage.text, /--gateway needs --admin-url/)
  })
})
