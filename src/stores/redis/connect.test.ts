import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Redis } from 'ioredis'
import { connectRedis, settingsToUrl } from './connect.js'

test("Kong's config.redis fields become a URL, TLS verification and SNI included", () => {
  assert.equal(settingsToUrl({ host: 'r', port: 6380, database: 2 }), 'redis://r:6380/2')
  const url = settingsToUrl({
    host: 'r',
    ssl: true,
    ssl_verify: false,
    server_name: 'redis.internal',
    username: 'u',
    password: 'p w',
  })
  assert.equal(url, 'rediss://u:p%20w@r:6379/0?ssl_verify=false&server_name=redis.internal')
  const client = connectRedis(url, { lazyConnect: true }) as Redis
  assert.deepEqual(client.options.tls, { rejectUnauthorized: false, servername: 'redis.internal' })
  assert.equal(client.options.password, 'p w')
  assert.equal(client.options.db, 0)
  client.disconnect()
  // a plain rediss:// URL keeps verifying certificates
  const plain = connectRedis('rediss://r:6379/1', { lazyConnect: true }) as Redis
  assert.deepEqual(plain.options.tls, { rejectUnauthorized: true })
  assert.equal(plain.options.db, 1)
  plain.disconnect()
})
