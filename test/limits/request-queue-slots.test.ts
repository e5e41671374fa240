import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { RedisConnection } from '../../src/core/services.js'
import { LeaseStore } from '../../src/plugins/request-queue/redis-slots.js'
import { NodeServices } from '../../src/stores/services.js'

describe('redis slots (the Lua semaphore on a real Redis)', () => {
  const url = process.env.REDIS_URL
  let services: NodeServices
  let conn: RedisConnection
  let slots: LeaseStore
  const call = <R>(cmd: string, ...argv: Array<string | number>) =>
    conn.call<R>(cmd, argv, { deadlineMs: 2000 })
  const key = `rq-unit-${randomBytes(4).toString('hex')}:{s}`
  const acquire = (ids: string[], limit: number, leaseMs = 10_000) =>
    new Promise<number | null>((resolve) => slots.acquire(key, ids, limit, leaseMs, resolve))

  before(async () => {
    if (url === undefined) throw new Error('REDIS_URL is required (npm test starts a private redis-server)')
    services = new NodeServices({ redisUrl: url, keyPrefix: 'rq-unit:', redisDeadlineMs: 1000 })
    conn = services.redis()
    await conn.whenReady(2000)
    slots = new LeaseStore(conn, 1000, `rq-unit-${randomBytes(4).toString('hex')}:`, () => {})
  })
  after(async () => {
    slots.close()
    await call('del', key)
    await services.close()
  })

  test('acquire grants up to the limit, as many at once as asked and free', async () => {
    assert.equal(await acquire(['a1', 'a2'], 3), 2)
    assert.equal(await acquire(['b1', 'b2', 'b3'], 3), 1)
    assert.equal(await acquire(['c1'], 3), 0)
    assert.deepEqual((await call<string[]>('zrange', key, '0', '-1')).sort(), ['a1', 'a2', 'b1'])
    const ttl = await call<number>('pttl', key)
    assert.ok(ttl > 10_000 && ttl <= 11_000, `the key outlives its leases a little: ${ttl}`)
  })

  test('release frees a slot and tells the other nodes when the set was full', async () => {
    const heard: string[] = []
    // another node's listener: a second services object, so a second subscriber connection
    const other = new NodeServices({ redisUrl: url!, keyPrefix: 'rq-unit:', redisDeadlineMs: 1000 })
    let off = () => {}
    // the resync runs once the subscription is in place
    await new Promise<void>((subscribed) => {
      off = other.redis().listen(
        slots.channel,
        (m) => heard.push(m),
        () => subscribed(),
      )
    })
    slots.release(key, ['b1'], 3)
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(heard, [key])
    slots.release(key, ['a2'], 3) // not full before: no notice
    assert.equal(await call('zcard', key), 1)
    await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(heard, [key])
    off()
    await other.close()
  })

  test('expired leases free their slots; renew writes a lease back', async () => {
    await call('del', key)
    assert.equal(await acquire(['x1'], 1, 100), 1)
    assert.equal(await acquire(['x2'], 1, 100), 0)
    await new Promise((r) => setTimeout(r, 150))
    assert.equal(await acquire(['x2'], 1, 10_000), 1, 'x1 expired')
    slots.renew(key, ['x1'], 10_000)
    await call('ping')
    assert.deepEqual(
      (await call<string[]>('zrange', key, '0', '-1')).sort(),
      ['x1', 'x2'],
      'a running request is counted',
    )
  })
})
