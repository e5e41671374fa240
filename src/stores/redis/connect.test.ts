import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Cluster, Redis } from 'ioredis'
import { connectTarget, describeTarget, parseRedisUrl, settingsToTarget, targetKey } from './connect.js'

test('one-node URLs: database, credentials, TLS with verification on unless turned off', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/2'), {
    mode: 'single',
    nodes: [{ host: '127.0.0.1', port: 6380 }],
    db: 2,
  })
  const t = parseRedisUrl('rediss://u:p%20w@r/1?server_name=redis.internal')
  assert.equal(t.username, 'u')
  assert.equal(t.password, 'p w')
  assert.deepEqual(t.tls, { rejectUnauthorized: true, servername: 'redis.internal' })
  assert.deepEqual(parseRedisUrl('rediss://r?ssl_verify=false').tls, { rejectUnauthorized: false })
  assert.equal(parseRedisUrl('redis://secret@r').password, 'secret')
  assert.deepEqual(parseRedisUrl('redis://[::1]:7000').nodes, [{ host: '::1', port: 7000 }])
  assert.throws(() => parseRedisUrl('http://r'), /unsupported Redis URL scheme 'http:'/)
  assert.throws(() => parseRedisUrl('redis://r:99999'), /invalid Redis port/)
})

test('several hosts parse: redis+cluster:// and redis+sentinel://h1:p1,h2:p2/name', () => {
  const c = parseRedisUrl('redis+cluster://:pw@127.0.0.1:7000,127.0.0.1:7001')
  assert.equal(c.mode, 'cluster')
  assert.deepEqual(c.nodes, [
    { host: '127.0.0.1', port: 7000 },
    { host: '127.0.0.1', port: 7001 },
  ])
  assert.equal(c.password, 'pw')
  const s = parseRedisUrl('redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/main?sentinel_password=x')
  assert.equal(s.mode, 'sentinel')
  assert.equal(s.name, 'main')
  assert.equal(s.sentinelPassword, 'x')
  assert.equal(s.nodes.length, 2)
  assert.equal(describeTarget(s), 'redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/main')
  const cluster = connectTarget(c, { lazyConnect: true }) as Cluster
  assert.equal(cluster.isCluster, true)
  cluster.disconnect()
  const sentinel = connectTarget(s, { lazyConnect: true }) as Redis
  assert.equal(sentinel.options.name, 'main')
  sentinel.disconnect()
})

test("Kong's config.redis fields: host, cluster_nodes, sentinel_nodes; equal settings share a key", () => {
  const one = settingsToTarget({ host: 'r', port: 6380, database: 2, ssl: true, server_name: 'x' })
  assert.deepEqual(one, {
    mode: 'single',
    nodes: [{ host: 'r', port: 6380 }],
    db: 2,
    tls: { rejectUnauthorized: false, servername: 'x' },
  })
  const cluster = settingsToTarget({ cluster_nodes: [{ ip: '127.0.0.1', port: 7000 }], database: 3 })
  assert.equal(cluster.mode, 'cluster')
  assert.equal(cluster.db, 0, 'a Cluster has database 0 only')
  const sentinel = settingsToTarget({
    sentinel_nodes: [{ host: '127.0.0.1', port: 26379 }],
    sentinel_master: 'main',
    password: 'pw',
  })
  assert.equal(sentinel.mode, 'sentinel')
  assert.equal(sentinel.name, 'main')
  assert.equal(
    targetKey(parseRedisUrl('redis://:pw@127.0.0.1:6379/0')),
    targetKey(settingsToTarget({ host: '127.0.0.1', port: 6379, password: 'pw' })),
    'a plugin pointing at the node Redis shares its connection',
  )
})
