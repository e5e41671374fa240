import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { declarativeConsumers } from '../../demo/consumers.js'
import { type DemoServices, startDemoServices } from '../../demo/services/index.js'
import { DEMO_SERVICE_NAMES } from '../../demo/services/types.js'
import { DEMO_CONFIG, DEMO_REDIS_CONFIG, demoConfigFor } from '../../src/cli/demo.js'
import { parseDeclarative } from '../../src/config/declarative.js'
import type { ConfigDocument } from '../../src/core/entities.js'
import { createRegistry } from '../../src/plugins/index.js'
import { call, gateway } from '../fixtures/helpers.js'

const FILES = { memory: DEMO_CONFIG, redis: DEMO_REDIS_CONFIG }

function load(file: string): ConfigDocument {
  const { document, issues } = parseDeclarative(readFileSync(file, 'utf8'), createRegistry())
  assert.deepEqual(issues, [], file)
  return document!
}

/** Each plugin as `route name / plugin name / instance name` → its config. */
function pluginsByPlace(doc: ConfigDocument): Map<string, Record<string, unknown>> {
  const routeName = new Map(doc.routes.map((r) => [r.id, r.name]))
  return new Map(
    doc.plugins.map((p) => [
      `${routeName.get(p.route?.id ?? '') ?? '*'}/${p.name}/${p.instance_name ?? ''}`,
      p.config as Record<string, unknown>,
    ]),
  )
}

test('both demo files pass the config validator', () => {
  for (const file of Object.values(FILES)) load(file)
})

test('portico demo takes the Redis file only when the node has a Redis', () => {
  assert.equal(demoConfigFor(undefined), DEMO_CONFIG)
  assert.equal(demoConfigFor(''), DEMO_CONFIG)
  assert.equal(demoConfigFor('redis://127.0.0.1:6379'), DEMO_REDIS_CONFIG)
  const noRedis = load(DEMO_CONFIG)
  for (const p of noRedis.plugins) {
    assert.notEqual((p.config as { policy?: string }).policy, 'redis', `${p.name} needs no Redis`)
  }
})

test('the two files have the same services, routes, consumers and upstreams', () => {
  const memory = load(DEMO_CONFIG)
  const redis = load(DEMO_REDIS_CONFIG)
  for (const part of ['services', 'routes', 'consumers', 'upstreams', 'targets'] as const) {
    assert.deepEqual(redis[part], memory[part], part)
  }
  // only the rate-limit policy and the cache strategy differ, and the Redis file adds a global
  // window on /api/keyed
  const m = pluginsByPlace(memory)
  const r = pluginsByPlace(redis)
  const strip = (c: Record<string, unknown>) => ({ ...c, policy: undefined, strategy: undefined })
  for (const [place, config] of m) {
    const other =
      r.get(place) ?? r.get(place.replace('keyed/rate-limiting/', 'keyed/rate-limiting/keyed-per-key'))
    assert.ok(other !== undefined, place)
    assert.deepEqual(strip(other), strip(config), place)
  }
  for (const [place, config] of r) {
    if (place.includes('/proxy-cache'))
      assert.equal((config as { strategy?: string }).strategy, 'redis', place)
  }
  assert.deepEqual(
    [...r.keys()].filter((k) => !m.has(k)),
    ['keyed/rate-limiting/keyed-per-key', 'keyed/rate-limiting/keyed-global'],
  )
})

test("the demo's consumers are demo/consumers.ts's", () => {
  for (const file of Object.values(FILES)) {
    assert.deepEqual(parse(readFileSync(file, 'utf8')).consumers, declarativeConsumers(), file)
  }
})

test('the reference setups are in the demo', () => {
  for (const [kind, file] of Object.entries(FILES)) {
    const p = pluginsByPlace(load(file))
    const shared = kind === 'redis' ? 'redis' : 'local'
    // the AI gateway: a global token bucket and one per client on one route
    assert.deepEqual(
      pick(p.get('limited/rate-limiting/limited-global')!, [
        'second',
        'burst',
        'algorithm',
        'limit_by',
        'policy',
      ]),
      { second: 200, burst: 100, algorithm: 'token-bucket', limit_by: 'service', policy: shared },
    )
    assert.deepEqual(
      pick(p.get('limited/rate-limiting/limited-client')!, [
        'second',
        'burst',
        'algorithm',
        'limit_by',
        'policy',
      ]),
      { second: 20, burst: 40, algorithm: 'token-bucket', limit_by: 'ip', policy: shared },
    )
    // the FastAPI gateway: a local bucket per API key (and a global window in Redis)
    const perKey = p.get('keyed/rate-limiting/') ?? p.get('keyed/rate-limiting/keyed-per-key')!
    assert.deepEqual(pick(perKey, ['algorithm', 'limit_by', 'policy']), {
      algorithm: 'token-bucket',
      limit_by: 'credential',
      policy: 'local',
    })
    assert.ok(p.has('keyed/key-auth/'))
    if (kind === 'redis') {
      assert.deepEqual(
        pick(p.get('keyed/rate-limiting/keyed-global')!, ['algorithm', 'limit_by', 'policy']),
        {
          algorithm: 'fixed-window',
          limit_by: 'service',
          policy: 'redis',
        },
      )
    }
    // Kong: per consumer, per minute and per hour, behind jwt
    assert.ok(p.has('resource/jwt/'))
    assert.deepEqual(pick(p.get('resource/rate-limiting/')!, ['minute', 'hour', 'limit_by']), {
      minute: 60,
      hour: 1000,
      limit_by: 'consumer',
    })
    // the Redis companion: a sliding window of 100 per minute per IP
    assert.deepEqual(pick(p.get('auth-token/rate-limiting/')!, ['minute', 'algorithm', 'limit_by']), {
      minute: 100,
      algorithm: 'sliding-window',
      limit_by: 'ip',
    })
    // a request queue in front of both inference services
    for (const route of ['infer-python', 'infer-node']) {
      assert.equal(p.get(`${route}/request-queue/`)?.policy, shared, route)
    }
  }
})

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]))
}

/** A demo file with the fixed demo ports replaced by the ports the services got. */
function withPorts(file: string, demo: DemoServices): string {
  let text = readFileSync(file, 'utf8')
  DEMO_SERVICE_NAMES.forEach((name, i) => {
    text = text.replaceAll(`127.0.0.1:${9101 + i}`, `127.0.0.1:${demo.services[name].port}`)
  })
  return text
}

describe('the demo gateway end to end, on the real demo services', () => {
  let demo: DemoServices
  before(async () => {
    demo = await startDemoServices({ latency: { inferenceMs: 1, slowMs: 1 } })
  })
  after(async () => {
    await demo.close()
  })

  for (const kind of ['memory', 'redis'] as const) {
    test(`${kind}: limits, auth and the queue answer as the reference projects expect`, async () => {
      const settings =
        kind === 'redis'
          ? { redisUrl: process.env.REDIS_URL, keyPrefix: `demo-test-${randomBytes(4).toString('hex')}:` }
          : {}
      if (kind === 'redis') assert.ok(process.env.REDIS_URL, 'npm test provides REDIS_URL')
      const gw = await gateway(withPorts(FILES[kind], demo), settings)
      try {
        const limited = await call(`${gw.url}/limited`)
        assert.equal(limited.status, 200)
        // both buckets apply: RateLimit-Policy names each (RateLimit-Scope comes with a 429)
        assert.equal(
          limited.headers['ratelimit-policy'],
          '"client-second";q=20;w=1, "global-second";q=200;w=1',
        )

        const token = await call(`${gw.url}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
        })
        assert.equal(token.status, 200)
        assert.equal(token.headers['x-ratelimit-limit-minute'], '100')
        const { access_token } = token.json() as { access_token: string }
        assert.equal((await call(`${gw.url}/api/resource`)).status, 401)
        const resource = await call(`${gw.url}/api/resource`, {
          headers: { authorization: `Bearer ${access_token}` },
        })
        assert.equal(resource.status, 200)
        assert.equal((resource.json() as { user: string }).user, 'alice')
        assert.equal(resource.headers['x-ratelimit-limit-minute'], '60')
        assert.equal(resource.headers['x-ratelimit-limit-hour'], '1000')

        assert.equal((await call(`${gw.url}/api/keyed`)).status, 401)
        const keyed = await call(`${gw.url}/api/keyed`, { headers: { apikey: 'bob-key' } })
        assert.equal(keyed.status, 200)
        assert.equal((keyed.json() as { user: string }).user, 'bob')
        assert.equal(keyed.headers['x-ratelimit-limit-second'], '5')
        if (kind === 'redis') assert.equal(keyed.headers['x-ratelimit-limit-minute'], '600')

        const infer = await call(`${gw.url}/infer/python`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `hello ${kind}` }),
        })
        assert.equal(infer.status, 200)
        assert.match(String(infer.headers['x-queue-wait-ms']), /^\d+$/)
      } finally {
        await gw.stop()
      }
    })
  }
})
