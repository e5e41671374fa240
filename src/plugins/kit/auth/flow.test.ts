import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reply } from '../../../core/errors.js'
import type { Reply } from '../../../core/plugin.js'
import { edits, fakeContext } from '../testing.js'
import { authFlow } from './flow.js'
import { Identity } from './identity.js'

const alice = new Identity({ id: 'c-alice', username: 'alice' }, { id: 'k-1', identifier: 'k-1' })
const guest = { id: 'c-guest', username: 'guest', custom_id: 'g' }
const spoofed = { 'x-consumer-id': 'c-root', 'x-anonymous-consumer': 'false' }

test('logical AND: success sets the identity, replacing client-sent identity headers', () => {
  const access = authFlow({
    anonymous: undefined,
    anonymousConsumer: undefined,
    runOnPreflight: true,
    check: () => alice,
  })
  const ctx = fakeContext({ headers: { ...spoofed, 'x-consumer-custom-id': 'evil' } })
  assert.equal(access(ctx), undefined)
  assert.equal(ctx.consumer, alice.consumer)
  assert.equal(ctx.credential, alice.credential)
  assert.equal(ctx.anonymous, false)
  assert.deepEqual(edits(ctx), {
    'x-consumer-id': 'c-alice',
    'x-consumer-custom-id': null,
    'x-consumer-username': 'alice',
    'x-credential-identifier': 'k-1',
    'x-anonymous-consumer': null,
  })
})

test('logical AND: a failed check answers with its reply', () => {
  const access = authFlow({
    anonymous: undefined,
    anonymousConsumer: undefined,
    runOnPreflight: true,
    check: (ctx) => reply(ctx, 'UNAUTHORIZED'),
  })
  const r = access(fakeContext({})) as Reply
  assert.equal(r.status, 401)
  assert.deepEqual(r.body, { message: 'Unauthorized', request_id: 'req-1' })
})

test('logical OR: failure continues as the anonymous consumer; an earlier credential skips the check', () => {
  let checks = 0
  const access = authFlow({
    anonymous: 'guest',
    anonymousConsumer: guest,
    runOnPreflight: true,
    check: (ctx) => {
      checks++
      return reply(ctx, 'UNAUTHORIZED')
    },
  })
  const ctx = fakeContext({ headers: spoofed })
  assert.equal(access(ctx), undefined)
  assert.equal(ctx.consumer, guest)
  assert.equal(ctx.credential, null)
  assert.equal(ctx.anonymous, true)
  assert.equal(edits(ctx)['x-anonymous-consumer'], 'true')
  assert.equal(edits(ctx)['x-consumer-id'], 'c-guest')
  assert.equal(edits(ctx)['x-credential-identifier'], null)

  const authed = fakeContext({})
  authed.consumer = alice.consumer
  authed.credential = alice.credential
  assert.equal(access(authed), undefined)
  assert.equal(checks, 1, 'already authenticated: not checked again')
  assert.equal(authed.consumer, alice.consumer)
})

test('logical OR with an anonymous consumer that does not exist: 500 as Kong', () => {
  const access = authFlow({
    anonymous: 'nobody',
    anonymousConsumer: undefined,
    runOnPreflight: true,
    check: (ctx) => reply(ctx, 'UNAUTHORIZED'),
  })
  assert.equal((access(fakeContext({})) as Reply).status, 500)
})

test('run_on_preflight false: OPTIONS passes unchecked, client identity headers removed', () => {
  const access = authFlow({
    anonymous: undefined,
    anonymousConsumer: undefined,
    runOnPreflight: false,
    check: () => assert.fail('not checked'),
  })
  const ctx = fakeContext({ method: 'OPTIONS', headers: spoofed })
  assert.equal(access(ctx), undefined)
  assert.equal(ctx.consumer, null)
  assert.equal(edits(ctx)['x-consumer-id'], null)
  assert.equal(edits(ctx)['x-anonymous-consumer'], null)
  const clean = fakeContext({ method: 'OPTIONS' })
  access(clean)
  assert.equal(clean.upstreamHeaderEdits, null, 'nothing to strip: no edits made')
})

test('an async check is awaited, a sync one is not turned into a promise', async () => {
  const sync = authFlow({
    anonymous: undefined,
    anonymousConsumer: undefined,
    runOnPreflight: true,
    check: () => alice,
  })
  assert.equal(sync(fakeContext({})), undefined)
  const async = authFlow({
    anonymous: undefined,
    anonymousConsumer: undefined,
    runOnPreflight: true,
    check: async () => alice,
  })
  const ctx = fakeContext({})
  const p = async(ctx)
  assert.ok(p instanceof Promise)
  assert.equal(await p, undefined)
  assert.equal(ctx.consumer, alice.consumer)
})
