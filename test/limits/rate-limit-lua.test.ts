import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import {
  type Algorithm,
  consume,
  FIXED,
  type Limit,
  refund,
  SLIDING,
  stateSize,
  TOKEN,
} from '../../src/plugins/rate-limiting/algorithms.js'
import { CALENDAR_LUA, RATE_LIMIT_LUA } from '../../src/plugins/rate-limiting/lua.js'
import { fixedEnd, fixedStart, PERIODS } from '../../src/plugins/rate-limiting/windows.js'
import { NodeServices } from '../../src/stores/services.js'

const REDIS_URL = process.env.REDIS_URL
if (REDIS_URL === undefined) throw new Error('REDIS_URL is required (npm test starts a private redis-server)')
// through the Redis layer, as the plugin calls it
const services = new NodeServices({ redisUrl: REDIS_URL, keyPrefix: 'test:', redisDeadlineMs: 5000 })
const redis = services.redis()
after(() => services.close())
const script = redis.script<number[]>('rate-limit', RATE_LIMIT_LUA, 1)

const limit = (name: string, n: number, capacity = n): Limit => {
  const p = PERIODS.find((x) => x.name === name)!
  return { code: p.code, size: p.size, limit: n, capacity, interval: p.size / n }
}

/** One local table slot and one Redis key, driven by the same requests at the same times. */
function pair(algo: Algorithm, limits: Limit[]) {
  const state = new Float64Array(stateSize(algo, limits.length))
  const key = `test:rl:{${Math.random()}}`
  const args = (mode: number, now: number) => [
    algo,
    limits.length,
    mode,
    now,
    ...limits.flatMap((l) => [l.code, l.size, l.limit, l.capacity, l.interval]),
  ]
  return {
    local(now: number) {
      const out = new Float64Array(2 + 2 * limits.length)
      consume(algo, limits, state, 0, now, out)
      return [...out]
    },
    async redis(now: number) {
      return script.run([key, ...args(1, now)])
    },
    refundLocal(now: number) {
      refund(algo, limits, state, 0, now)
    },
    async refundRedis(now: number) {
      await script.run([key, ...args(2, now)])
    },
  }
}

/** A deterministic pseudo-random sequence (tests must not flake on a seed). */
function lcg(seed: number) {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x / 2 ** 31
  }
}

const CASES: Array<[string, Algorithm, Limit[], number]> = [
  ['fixed second+minute', FIXED, [limit('second', 5), limit('minute', 40)], 200],
  ['fixed month+year across a leap-day month end', FIXED, [limit('month', 30), limit('year', 50)], 6e6],
  ['sliding second+minute', SLIDING, [limit('second', 4), limit('minute', 30)], 300],
  ['sliding hour', SLIDING, [limit('hour', 7)], 9e5],
  ['token second (burst 6) + minute', TOKEN, [limit('second', 3, 6), limit('minute', 50)], 250],
  ['token fractional rate', TOKEN, [limit('minute', 7)], 9000],
]

test('the Lua script (through the Redis layer) and the local store give the same verdicts, remaining and resets', async () => {
  await redis.whenReady(2000)
  for (const [what, algo, limits, step] of CASES) {
    const rnd = lcg(42)
    const p = pair(algo, limits)
    let now = Date.UTC(2024, 1, 29, 23, 50) + 0.5 * step
    for (let i = 0; i < 400; i++) {
      now += Math.floor(rnd() * step)
      if (rnd() < 0.05) {
        p.refundLocal(now)
        await p.refundRedis(now)
        continue
      }
      assert.deepEqual(await p.redis(now), p.local(now), `${what}: request ${i} at ${now}`)
    }
  }
})

test('calendar windows in Lua match Date.UTC (months, leap years, year ends)', async () => {
  const rnd = lcg(7)
  const times = [Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1), Date.UTC(2100, 1, 28, 12)]
  for (let i = 0; i < 300; i++) times.push(Math.floor(rnd() * Date.UTC(2200, 0, 1)))
  const lua = `${CALENDAR_LUA}
local out = {}
for i = 1, #ARGV do
  local t = tonumber(ARGV[i])
  local ms, me = fixed_bounds(5, 0, t)
  local ys, ye = fixed_bounds(6, 0, t)
  out[#out + 1] = ms; out[#out + 1] = me; out[#out + 1] = ys; out[#out + 1] = ye
end
return out`
  await redis.whenReady(2000)
  const got = await redis.script<number[]>('calendar-test', lua, 0).run(times)
  times.forEach((t, i) => {
    assert.deepEqual(
      got.slice(4 * i, 4 * i + 4),
      [fixedStart(5, t), fixedEnd(5, t), fixedStart(6, t), fixedEnd(6, t)],
      new Date(t).toISOString(),
    )
  })
})
