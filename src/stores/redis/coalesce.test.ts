import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { writeCoalescer } from './coalesce.js'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

test('commands of one turn leave corked together, the socket is uncorked in the same turn, replies arrive', async () => {
  const client = new Redis(url)
  try {
    await client.ping()
    const coalesce = writeCoalescer(client)
    coalesce()
    assert.equal(client.stream.writableCorked, 1)
    coalesce() // a second command of the same turn does not cork twice
    assert.equal(client.stream.writableCorked, 1)
    const replies = Promise.all([client.echo('a'), client.echo('b')])
    await new Promise((r) => setImmediate(r))
    assert.equal(client.stream.writableCorked, 0)
    assert.deepEqual(await replies, ['a', 'b'])
    // the next turn corks again
    coalesce()
    assert.equal(client.stream.writableCorked, 1)
    const third = client.echo('c')
    await new Promise((r) => setImmediate(r))
    assert.equal(await third, 'c')
  } finally {
    client.disconnect()
  }
})
