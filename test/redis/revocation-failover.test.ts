import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { silentLogger } from '../../src/core/logger.js'
import { RevocationSync } from '../../src/plugins/jwt/revocation/redis-peer.js'
import { Revocations } from '../../src/plugins/jwt/revocation/registry.js'
import { parseRedisUrl } from '../../src/stores/redis/connect.js'
import { RedisLink } from '../../src/stores/redis/link.js'
import { eventually } from '../fixtures/redis-features.js'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A node's revocation set shared through its own connection (as three processes would). */
function node(prefix: string) {
  const link = new RedisLink(parseRedisUrl(url), 500, silentLogger)
  const set = new Revocations()
  const sync = new RevocationSync(link, prefix, set)
  set.attach(sync)
  return {
    link,
    set,
    sync,
    close: async () => {
      set.close()
      await link.close()
    },
  }
}

/**
 * What a failover to a replica that had not received the last changes does to the revocation
 * log: Redis numbers new changes again from where the replica was. A node that saw the lost
 * change under a number must still take the new change made under the same number, and the lost
 * revocation is written back.
 */
describe('jwt revocation after Redis lost its last change (failover to a lagging replica)', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}:`
  const base = `${prefix}{jwt:revocations}`
  const exp = Math.floor(Date.now() / 1000) + 600
  const a = node(prefix)
  const b = node(prefix)
  after(async () => {
    await a.link.call('del', [base, `${base}:log`, `${base}:seq`])
    await Promise.all([a.close(), b.close()])
  })

  test('a new revocation numbered like a lost one reaches every node; the lost one comes back', async () => {
    await Promise.all([a.sync.ready(), b.sync.ready()])
    assert.equal(await a.set.revoke('x1', exp), true)
    assert.equal(await a.set.revoke('x2', exp), true)
    await b.sync.catchUp()
    assert.ok(b.set.has('x1') && b.set.has('x2'))

    // the promoted replica had change 1 only
    await a.link.call('set', [`${base}:seq`, '1'])
    await a.link.call('zremrangebyscore', [`${base}:log`, '2', '+inf'])
    await a.link.call('zrem', [base, 'x2'])

    // made through A, numbered 2 again: B has seen a change 2 (x2), it must take this one too
    assert.equal(await a.set.revoke('x3', exp), true)
    assert.ok(await eventually(async () => b.set.has('x3'), 10_000), 'x3 reached B')
    // B's catch-up finds the history diverged and writes x2 back for everyone
    await b.sync.catchUp()
    assert.ok(
      await eventually(
        async () => (await a.link.call<string | null>('zscore', [base, 'x2'])) !== null,
        10_000,
      ),
      'x2 is in Redis again',
    )
    assert.ok(b.set.has('x2'), 'B kept x2 meanwhile')

    // a node that joins now gets all three
    const c = node(prefix)
    try {
      await c.sync.ready()
      for (const id of ['x1', 'x2', 'x3']) assert.ok(c.set.has(id), id)
    } finally {
      await c.close()
    }
  })
})
