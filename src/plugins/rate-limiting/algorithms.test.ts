import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Redis } from 'ioredis'
import {
  type Algorithm,
  consume,
  FIXED,
  type Limit,
  refund,
  SLIDING,
  stateSize,
  TOKEN,
} from './algorithms.js'
import { CALENDAR_LUA, RATE_LIMIT_LUA } from './lua.js'
import { fixedEnd, fixedStart, PERIODS } from './windows.js'

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
after(() => redis.quit())

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
      return (await redis.eval(RATE_LIMIT_LUA, 1, key, ...args(1, now))) as number[]
    },
    refundLocal(now: number) {
      refund(algo, limits, state, 0, now)
    },
    async refundRedis(now: number) {
      await redis.eval(RATE_LIMIT_LUA, 1, key, ...args(2, now))
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

test('the Lua script and the local store give the same verdicts, remaining and resets', async () => {
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
  const got = (await redis.eval(lua, 0, ...times)) as number[]
  times.forEach((t, i) => {
    assert.deepEqual(
      got.slice(4 * i, 4 * i + 4),
      [fixedStart(5, t), fixedEnd(5, t), fixedStart(6, t), fixedEnd(6, t)],
      new Date(t).toISOString(),
    )
  })
})

test('fixed window: exactly L per window, refusals count nothing, resets at the boundary', () => {
  const limits = [limit('minute', 3)]
  const s = new Float64Array(stateSize(FIXED, 1))
  const out = new Float64Array(4)
  const t0 = Date.UTC(2024, 0, 1, 10, 0, 10)
  const verdicts = [0, 1, 2, 3, 4].map((i) => consume(FIXED, limits, s, 0, t0 + i, out))
  assert.deepEqual(verdicts, [true, true, true, false, false])
  assert.equal(s[2], 3, 'refused requests were not counted')
  assert.deepEqual([...out], [1, 50_000 - 4, 0, 50_000 - 4])
  assert.equal(consume(FIXED, limits, s, 0, Date.UTC(2024, 0, 1, 10, 1), out), true)
  assert.equal(out[2], 2)
})

test('sliding window: the previous window weighs in by the share still inside', () => {
  const limits = [limit('minute', 10)]
  const s = new Float64Array(stateSize(SLIDING, 1))
  const out = new Float64Array(4)
  const t0 = Date.UTC(2024, 0, 1, 10, 0, 0)
  for (let i = 0; i < 10; i++) assert.equal(consume(SLIDING, limits, s, 0, t0 + 59_000, out), true)
  assert.equal(consume(SLIDING, limits, s, 0, t0 + 59_000, out), false)
  // 15 s into the next minute the previous 10 count as 7.5: two more fit (7.5 + 2 + 1 > 10 refuses the third)
  const t1 = t0 + 75_000
  assert.equal(consume(SLIDING, limits, s, 0, t1, out), true)
  assert.equal(consume(SLIDING, limits, s, 0, t1, out), true)
  assert.equal(consume(SLIDING, limits, s, 0, t1, out), false)
  // the wait it announces is when the next one fits: 7.5 must fall to 7 → at 18 s
  assert.equal(out[1], 3_000)
  assert.equal(consume(SLIDING, limits, s, 0, t1 + out[1]!, out), true)
})

test('token bucket: burst at once, then the rate; a refusal says when the next token comes', () => {
  const limits = [limit('second', 10, 20)]
  const s = new Float64Array(stateSize(TOKEN, 1))
  const out = new Float64Array(4)
  const t0 = 1_000_000
  let admitted = 0
  for (let i = 0; i < 50; i++) if (consume(TOKEN, limits, s, 0, t0, out)) admitted++
  assert.equal(admitted, 20)
  assert.equal(out[1], 100, 'one token per 100 ms')
  assert.equal(consume(TOKEN, limits, s, 0, t0 + 99, out), false)
  assert.equal(consume(TOKEN, limits, s, 0, t0 + 100, out), true)
  assert.equal(out[2], 0)
  // over 10 s at the rate: 10/s exactly, nothing saved up beyond the burst
  admitted = 0
  for (let t = t0 + 101; t <= t0 + 10_101; t += 10) if (consume(TOKEN, limits, s, 0, t, out)) admitted++
  assert.equal(admitted, 100)
})
