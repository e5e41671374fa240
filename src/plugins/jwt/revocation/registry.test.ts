import assert from 'node:assert/strict'
import { hash } from 'node:crypto'
import { test } from 'node:test'
import { type RevocationOp, type RevocationPeer, Revocations, revocationId } from './registry.js'

const now = () => Date.now() / 1000

test('revocationId: the jti, else the SHA-256 of the token', () => {
  assert.equal(revocationId({ jti: 'abc' }, 'tok'), 'abc')
  assert.equal(revocationId({}, 'tok'), hash('sha256', 'tok', 'hex'))
  assert.equal(revocationId({ jti: '' }, 'tok'), hash('sha256', 'tok', 'hex'))
  assert.equal(revocationId({ jti: 42 }, 'tok'), hash('sha256', 'tok', 'hex'))
})

test('without a peer: revocation is node-local and immediate; lifting it works', async () => {
  const r = new Revocations()
  assert.equal(r.has('a'), false)
  assert.equal(await r.revoke('a', now() + 60), false, 'not propagated: no peer')
  assert.equal(r.has('a'), true)
  assert.ok(r.get('a')! > now())
  await r.unrevoke('a')
  assert.equal(r.has('a'), false)
  r.close()
})

test('entries end with their token: an expired one is not added, sweep drops the passed ones', () => {
  const r = new Revocations()
  r.apply({ op: 'r', id: 'old', exp: now() - 1 })
  assert.equal(r.has('old'), false)
  r.apply({ op: 'r', id: 'soon', exp: now() + 1 })
  r.apply({ op: 'r', id: 'later', exp: now() + 100 })
  r.sweep(now() + 10)
  assert.equal(r.has('soon'), false)
  assert.equal(r.has('later'), true)
  r.close()
})

test('bounded: past the maximum the soonest-expiring tenth goes, never the latest', () => {
  const r = new Revocations(100)
  for (let i = 0; i < 101; i++) r.apply({ op: 'r', id: `t${i}`, exp: now() + 1000 + i })
  assert.ok(r.size <= 100)
  assert.equal(r.has('t0'), false)
  assert.equal(r.has('t100'), true)
  r.close()
})

test('a peer gets every local change; unconfirmed ones stay pending and survive a snapshot', async () => {
  const published: RevocationOp[] = []
  let up = false
  const peer: RevocationPeer = {
    publish: async (c) => {
      published.push(c)
      return up
    },
    ready: async () => {},
    close() {},
  }
  const r = new Revocations()
  r.attach(peer)
  assert.equal(await r.revoke('a', now() + 60), false)
  assert.deepEqual(
    r.pending().map((c) => c.id),
    ['a'],
  )
  // a snapshot from Redis that does not have 'a' yet must not lose it
  r.replace([['b', now() + 60]])
  assert.equal(r.has('a'), true)
  assert.equal(r.has('b'), true)
  up = true
  assert.equal(await r.republish(r.pending()[0]!), true)
  assert.deepEqual(r.pending(), [])
  r.replace([['b', now() + 60]])
  assert.equal(r.has('a'), false, 'once confirmed, the snapshot is the truth')
  assert.equal(published.length, 2)
  r.close()
})
