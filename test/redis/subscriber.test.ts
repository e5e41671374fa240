import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { silentLogger } from '../../src/core/logger.js'
import { parseRedisUrl } from '../../src/stores/redis/connect.js'
import { RedisLink } from '../../src/stores/redis/link.js'
import { eventually } from '../fixtures/redis-features.js'
import { cli, freePort, ServerProcess } from '../fixtures/redis-topology.js'

const COMMON = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']

/**
 * The shared subscriber's reconnection contract, on a private redis-server (its clients are
 * killed and it is restarted, which no other test may see): a feature's resync runs after every
 * reconnection, only once its channel is subscribed again on the server and the connection it
 * catches up with is ready, so a message published from the resync on is never missed.
 */
describe('the shared subscriber after a reconnection', () => {
  let server: ServerProcess
  let link: RedisLink
  const got: string[] = []
  /** what each resync saw: its argument, the channel's subscribers on the server, the link's state */
  const resyncs: Array<{ reconnected: boolean; subscribers: number; ready: boolean }> = []
  let off: () => void

  before(async () => {
    const port = await freePort()
    server = new ServerProcess(port, ['--port', String(port), ...COMMON])
    assert.ok(await server.start(), 'redis-server started')
    link = new RedisLink(parseRedisUrl(`redis://127.0.0.1:${port}`), 500, silentLogger)
    off = link.listen(
      'ch',
      (m) => got.push(m),
      (reconnected) => {
        const ready = link.ready
        // asked from the resync itself: the server already counts this node's subscription
        link.call<[string, number]>('pubsub', ['numsub', 'ch'], { background: true }).then(
          ([, subscribers]) => resyncs.push({ reconnected, subscribers, ready }),
          () => resyncs.push({ reconnected, subscribers: -1, ready }),
        )
        void link.publish('ch', `resync-${resyncs.length}`).catch(() => {})
      },
    )
  })
  after(async () => {
    off?.()
    await link?.close()
    await server?.kill()
  })

  test('the first subscription: resync(false) once subscribed', async () => {
    assert.ok(await eventually(async () => resyncs.length === 1, 10_000), JSON.stringify(resyncs))
    assert.deepEqual(resyncs[0], { reconnected: false, subscribers: 1, ready: true })
  })

  test('subscriber connection killed: resubscribed, then resync(true); nothing published from it is lost', async () => {
    const before = resyncs.length
    await cli(server.port, 'client', 'kill', 'type', 'pubsub')
    assert.ok(await eventually(async () => resyncs.length === before + 1, 10_000), JSON.stringify(resyncs))
    assert.deepEqual(resyncs[before], { reconnected: true, subscribers: 1, ready: true })
    assert.ok(
      await eventually(async () => got.includes(`resync-${before}`), 5000),
      `the message published by the resync arrived: ${got.join(',')}`,
    )
  })

  test('the server restarted: both connections come back, the resync runs when both are ready', async () => {
    const before = resyncs.length
    await server.kill()
    assert.ok(await server.start(), 'redis-server restarted on its port')
    assert.ok(await eventually(async () => resyncs.length > before, 15_000), JSON.stringify(resyncs))
    for (const r of resyncs.slice(before))
      assert.deepEqual(r, { reconnected: true, subscribers: 1, ready: true })
    await link.publish('ch', 'after-restart')
    assert.ok(await eventually(async () => got.includes('after-restart'), 5000), got.join(','))
  })
})
