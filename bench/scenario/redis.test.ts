import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { RedisProbe } from './redis.js'

test('INFO deltas: keyspace hits and misses, commands by name, our own INFO calls left out', async (t) => {
  const url = process.env.REDIS_URL
  if (url === undefined) return t.skip('REDIS_URL is not set')
  const probe = await RedisProbe.connect(url)
  const u = new URL(url)
  const client = new Redis({ host: u.hostname, port: Number(u.port || 6379) })
  try {
    const key = `portico:test:probe:${process.pid}:${Date.now()}`
    await client.ping()
    const before = await probe.snapshot()
    for (let i = 0; i < 10; i++) await client.get(`${key}:missing:${i}`)
    for (let i = 0; i < 5; i++) await client.set(`${key}:${i}`, 'v')
    for (let i = 0; i < 5; i++) await client.get(`${key}:${i}`)
    const d = probe.delta(before, await probe.snapshot(), 10)
    await client.del(...Array.from({ length: 5 }, (_, i) => `${key}:${i}`))
    // another client of the same Redis may add to the counts, never subtract from them
    assert.ok(d.keyspaceMisses >= 10, String(d.keyspaceMisses))
    assert.ok(d.keyspaceHits >= 5, String(d.keyspaceHits))
    assert.ok(d.commands >= 20, String(d.commands))
    assert.equal(d.commandsPerRequest, d.commands / 10)
    assert.ok((d.byCommand.find((c) => c.command === 'get')?.calls ?? 0) >= 15)
    assert.ok((d.byCommand.find((c) => c.command === 'set')?.calls ?? 0) >= 5)
    assert.equal(
      d.byCommand.find((c) => c.command === 'info'),
      undefined,
    )
  } finally {
    client.disconnect()
    await probe.close()
  }
})
