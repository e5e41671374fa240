import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Keys } from '../../src/analytics/analytics.js'
import type { Batch } from '../../src/analytics/backend.js'
import { CHUNK_UPDATES } from '../../src/analytics/flush-lua.js'
import { SharedRedisBackend } from '../../src/analytics/redis-backend.js'
import { silentLogger } from '../../src/core/logger.js'
import type { RedisLink } from '../../src/stores/redis/link.js'
import { SharedConnections } from '../../src/stores/redis/links.js'
import { type PrivateRedis, startRedis } from '../fixtures/cache-helpers.js'

// a Redis of its own: the command counts below are this test's only
let redis: PrivateRedis
let link: RedisLink
let backend: SharedRedisBackend
const keys = new Keys(`portico-test-${randomUUID().slice(0, 8)}:`)
const commands = () => link.call<string>('info', ['commandstats'])

/** `cmdstat_evalsha:calls=N` … as a number (0 when absent) */
const calls = (info: string, cmd: string) =>
  Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0)

// three hashes of 1,500 fields: 4,500 updates, more than two chunks' worth
const fields = (k: number) =>
  new Map(Array.from({ length: 1500 }, (_, i) => [`b${i}`, i + k] as [string, number]))
const batch = (): Batch => ({
  hashes: [0, 1, 2].map((k) => ({ key: keys.fine(60, `e${k}`), fields: fields(k), ttlSec: 120 })),
  zsets: [
    {
      key: keys.top('path', 1),
      members: new Map(Array.from({ length: 10 }, (_, i) => [`/p${i}`, i + 1] as [string, number])),
      keep: 5,
      ttlSec: 120,
    },
  ],
  uniques: [
    {
      key: keys.uniquesHour(1),
      items: Array.from({ length: 2500 }, (_, i) => `10.0.${i >> 8}.${i & 255}`),
      ttlSec: 120,
    },
  ],
  node: { id: 'node-a', value: '{"node_id":"node-a"}', ttlSec: 120 },
})

before(async () => {
  redis = await startRedis()
  link = new SharedConnections(redis.url, 2000, silentLogger).get()
  backend = new SharedRedisBackend(link, keys.nodes)
  await link.whenReady(5000)
})
after(async () => {
  await link.close()
  await redis.stop()
})

test('a flush is a few script calls, not a command per field, and two flushes add up in Redis', async () => {
  // the script's first use loads it (NOSCRIPT, then sent again): counted from the second on
  await backend.write({ ...batch(), hashes: [], zsets: [], uniques: [] })
  const before = await commands()
  await backend.write(batch())
  await backend.write(batch())
  const done = await commands()
  // 4,500 hash updates + 10 top-list members per flush, in chunks of CHUNK_UPDATES: 3 script calls
  const scripts =
    calls(done, 'evalsha') + calls(done, 'eval') - calls(before, 'evalsha') - calls(before, 'eval')
  assert.equal(scripts, 2 * Math.ceil(4510 / CHUNK_UPDATES))
  assert.equal(calls(done, 'hincrby') - calls(before, 'hincrby'), 2 * 4500) // run inside the scripts
  const read = await backend.hashes([0, 1, 2].map((k) => keys.fine(60, `e${k}`)))
  for (const [k, h] of read.entries()) {
    assert.equal(h.size, 1500)
    assert.equal(h.get('b7'), 2 * (7 + k))
  }
  const [top] = await backend.zsets([keys.top('path', 1)])
  // keep 5: the five largest, each counted twice
  assert.deepEqual([...top!.keys()].sort(), ['/p5', '/p6', '/p7', '/p8', '/p9'])
  assert.equal(top!.get('/p9'), 20)
  const uniques = await backend.uniques([keys.uniquesHour(1)])
  assert.ok(Math.abs(uniques - 2500) / 2500 < 0.02, `uniques ${uniques}`)
  assert.deepEqual(await backend.nodes(), ['{"node_id":"node-a"}'])
  const ttl = await link.call<number>('ttl', [keys.fine(60, 'e2')])
  assert.ok(ttl > 0 && ttl <= 120, `ttl ${ttl}`)
})
