import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { NodeServices } from '../services.js'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function ready(...stores: Array<{ ready: boolean }>): Promise<void> {
  for (let i = 0; i < 100 && !stores.every((s) => s.ready); i++) await new Promise((r) => setTimeout(r, 20))
}

describe('RedisCacheStore against a real Redis', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}:`
  // two "nodes": separate connections, one Redis, one prefix
  const a = new NodeServices({ redisUrl: url, keyPrefix: prefix, redisDeadlineMs: 500 })
  const b = new NodeServices({ redisUrl: url, keyPrefix: prefix, redisDeadlineMs: 500 })
  const ra = a.redisCache()
  const rb = b.redisCache()
  before(() => ready(ra, rb))
  after(async () => {
    await ra.flush()
    await Promise.all([a.close(), b.close()])
  })

  test('one store per Redis; blobs round-trip with a ttl; delete reports presence', async () => {
    assert.equal(a.redisCache(), ra)
    await ra.set('k1', Buffer.from([0, 1, 2, 255]), 10_000)
    assert.deepEqual(await rb.get('k1'), Buffer.from([0, 1, 2, 255]))
    assert.equal(await rb.delete('k1'), true)
    assert.equal(await rb.delete('k1'), false)
    assert.equal(await ra.get('k1'), null)
  })

  test('the fill lock has one holder; release by the holder wakes a waiter with "filled"', async () => {
    assert.equal(await ra.lock('k2', 'ta', 5000), true)
    assert.equal(await rb.lock('k2', 'tb', 5000), false)
    const waiting = rb.waitForFill('k2', 5000)
    await new Promise((r) => setTimeout(r, 50))
    await ra.set('k2', Buffer.from('v'), 10_000)
    await ra.release('k2', 'ta', true)
    assert.equal(await waiting, 'filled')
    assert.equal(await rb.lock('k2', 'tb', 5000), true, 'the lock was released')
    await rb.release('k2', 'tb', false)
  })

  test('a release without a fill wakes waiters with "released"; a non-holder cannot drop the lock', async () => {
    assert.equal(await ra.lock('k3', 'ta', 5000), true)
    const waiting = rb.waitForFill('k3', 5000)
    await rb.release('k3', 'not-the-holder', false)
    assert.equal(await ra.lock('k3', 'x', 5000), false, 'still held by ta')
    await ra.release('k3', 'ta', false)
    assert.equal(await waiting, 'released')
  })

  test('a holder that dies blocks waiters at most the lock ttl', async () => {
    assert.equal(await ra.lock('k4', 'dead', 150), true)
    assert.equal(await rb.waitForFill('k4', 5000), 'released')
  })

  test('the wait ends at its bound while the lock is held', async () => {
    assert.equal(await ra.lock('k5', 'slow', 5000), true)
    assert.equal(await rb.waitForFill('k5', 100), 'timeout')
    await ra.release('k5', 'slow', false)
  })

  test('notices reach every subscribed node, the sender included', async () => {
    const got: string[][] = [[], []]
    // the lock notices of the tests above (`release:k5`) share the channel and may still be on
    // their way: only purge notices are this test's
    const purges = (list: string[]) => (n: string) => {
      if (n.startsWith('purge:')) list.push(n)
    }
    const offA = ra.listen(purges(got[0]!))
    const offB = rb.listen(purges(got[1]!))
    // a subscription takes a moment to reach Redis (longer on a busy machine): publish until
    // both nodes have heard one, then check that each heard only that notice
    for (let i = 0; i < 100 && (got[0]!.length === 0 || got[1]!.length === 0); i++) {
      await ra.publish('purge:abc')
      await new Promise((r) => setTimeout(r, 50))
    }
    offA()
    offB()
    // the channel also carries collapsing wake-ups (`fill:` / `release:`): an earlier test's
    // release may land here while its waiter's flag has not expired yet
    for (const list of got) {
      const purges = list.filter((n) => n.startsWith('purge:'))
      assert.ok(purges.length > 0, 'every node heard the notice')
      assert.ok(
        purges.every((n) => n === 'purge:abc'),
        JSON.stringify(list),
      )
    }
  })

  test('stats counts entries and bytes; flush removes every key of the prefix only', async () => {
    const other = new NodeServices({ redisUrl: url, keyPrefix: `${prefix}other:`, redisDeadlineMs: 500 })
    try {
      await ra.flush()
      await ra.set('s1', Buffer.alloc(100), 10_000)
      await ra.set('s2', Buffer.alloc(50), 10_000)
      await ra.lock('s2', 't', 10_000)
      assert.deepEqual(await rb.stats(), { entries: 2, bytes: 150 })
      const kept = other.redisCache()
      await ready(kept)
      await kept.set('x', Buffer.from('x'), 10_000)
      assert.equal(await rb.flush(), 3)
      assert.deepEqual(await ra.stats(), { entries: 0, bytes: 0 })
      assert.deepEqual(await kept.get('x'), Buffer.from('x'), 'another prefix is untouched')
      await kept.flush()
    } finally {
      await other.close()
    }
  })
})
