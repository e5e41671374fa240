import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const RATE = 5 // per second
const SECONDS = 3

const doc = (url: string, policy: string) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - name: fixed
        paths: [/fixed]
        plugins:
          - { name: rate-limiting, config: { second: ${RATE}, limit_by: ip, policy: ${policy} } }
      - name: sliding
        paths: [/sliding]
        plugins:
          - { name: rate-limiting, config: { second: ${RATE}, algorithm: sliding-window, limit_by: ip, policy: ${policy} } }
      - name: bucket
        paths: [/bucket]
        plugins:
          - { name: rate-limiting, config: { second: ${RATE}, algorithm: token-bucket, limit_by: ip, policy: ${policy} } }
`

/** Sends every 25 ms (8× the limit) for SECONDS; returns admitted counts per second of the run. */
async function flood(url: string): Promise<{ perSecond: number[]; refused: number }> {
  const perSecond = new Array<number>(SECONDS).fill(0)
  let refused = 0
  const t0 = performance.now()
  for (;;) {
    const t = performance.now() - t0
    if (t >= SECONDS * 1000) break
    const r = await call(url)
    if (r.status === 200) perSecond[Math.floor(t / 1000)]!++
    else if (r.status === 429) refused++
    else assert.fail(`unexpected status ${r.status}`)
    await sleep(25)
  }
  return { perSecond, refused }
}

describe('no lock-out: a client that keeps sending above its limit gets through at the limit', () => {
  let up: Upstream
  before(async () => {
    up = await upstream('up')
  })
  after(() => up.close())

  for (const policy of ['local', 'redis']) {
    test(`${policy}: fixed window, sliding window and token bucket`, async () => {
      const gw = await gateway(doc(up.url, policy), {
        redisUrl: REDIS_URL,
        keyPrefix: `rltest:${randomUUID()}:`,
      })
      try {
        const runs = await Promise.all(['fixed', 'sliding', 'bucket'].map((p) => flood(`${gw.url}/${p}`)))
        runs.forEach(({ perSecond, refused }, i) => {
          const what = `${['fixed', 'sliding', 'bucket'][i]}: admitted per second ${perSecond}, refused ${refused}`
          assert.ok(refused > 0, `${what}: the client was over its limit`)
          // never locked out: every second of the run admits some, and never more than the
          // limit allows (a window boundary inside a slice can add one window's worth)
          for (const n of perSecond) assert.ok(n >= 1 && n <= 2 * RATE, what)
          const total = perSecond.reduce((a, b) => a + b, 0)
          assert.ok(total >= RATE * (SECONDS - 1) && total <= RATE * (SECONDS + 1), what)
        })
      } finally {
        await gw.stop()
      }
    })
  }
})
