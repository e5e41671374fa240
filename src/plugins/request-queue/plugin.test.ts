import assert from 'node:assert/strict'
import { test } from 'node:test'
import { errorMap, toConfigIssues } from '../../config/issues.js'
import type { RequestContext } from '../../core/context.js'
import { ERRORS } from '../../core/errors.js'
import type { AccessResult, PluginInstance, Reply } from '../../core/plugin.js'
import { createRegistry } from '../index.js'
import { fakeContext, testEnv } from '../kit/testing.js'
import { plugin } from './plugin.js'
import { RequestQueue } from './queue.js'
import type { LeaseStore } from './redis-slots.js'
import { schema } from './schema.js'
import { newRequestQueueStats, QUEUED } from './stats.js'

const isPromise = (r: unknown): r is Promise<AccessResult> => r instanceof Promise

async function build(config: Record<string, unknown>): Promise<PluginInstance> {
  return plugin.create(schema.parse(config), testEnv({}))
}

function request(route = 'route-1'): RequestContext {
  const ctx = fakeContext({})
  ctx.route = { id: route }
  ctx.clientIp = '10.0.0.1'
  return ctx
}

test('schema: every field has a default and a description', () => {
  assert.deepEqual(schema.parse({}), {
    concurrency: 10,
    queue_size: 100,
    max_wait_ms: 30_000,
    limit_by: 'route',
    policy: 'local',
    lease_ms: 10_000,
    poll_ms: 200,
    fault_tolerant: true,
    hide_client_headers: false,
  })
  for (const [name, field] of Object.entries(schema.shape))
    assert.ok(field.description, `${name} is described`)
  const issues = (config: unknown) => {
    const r = schema.safeParse(config, { error: errorMap })
    return r.success ? [] : toConfigIssues('config', r.error.issues).map((i) => i.path)
  }
  assert.deepEqual(issues({ concurrency: 0 }), ['config.concurrency'])
  assert.deepEqual(issues({ limit_by: 'ip' }), ['config.limit_by'])
  assert.deepEqual(issues({ policy: 'cluster' }), ['config.policy'])
  assert.deepEqual(issues({ redis: { host: 'r' } }), ['config.redis.host'])
  assert.deepEqual(issues({ queue_limit: 3 }), ['config.queue_limit'], 'unknown fields are errors')
})

test('registered, priority 1: after auth, rate limiting and the cache', () => {
  const registry = createRegistry()
  assert.equal(registry.get('request-queue'), plugin)
  assert.equal(plugin.priority, 1)
  for (const name of ['key-auth', 'jwt', 'rate-limiting', 'proxy-cache', 'request-termination']) {
    assert.ok(registry.get(name)!.priority > plugin.priority, name)
  }
})

test('policy redis refuses to load on a node without Redis', async () => {
  await assert.rejects(async () => plugin.create(schema.parse({ policy: 'redis' }), testEnv({})), /no Redis/)
})

test('local: a free slot is granted synchronously; the next one waits and gets the freed slot', async () => {
  const inst = await build({ concurrency: 1 })
  const a = request()
  assert.equal(inst.access!(a), undefined, 'no promise when a slot is free')
  assert.equal(a.get(QUEUED), 'immediate')
  assert.deepEqual(a.responseHeaders, ['x-queue-wait-ms', '0'])
  const b = request()
  const waiting = inst.access!(b)
  assert.ok(isPromise(waiting))
  inst.log!(a)
  assert.equal(await waiting, undefined)
  assert.equal(b.get(QUEUED), 'waited')
  inst.log!(b)
  inst.log!(b) // a second log phase changes nothing
  const c = request()
  assert.equal(inst.access!(c), undefined, 'the slot came back once, not twice')
  assert.ok(isPromise(inst.access!(request())))
})

test('local: queue_size 0 refuses at once with the typed 503 and Retry-After', async () => {
  const inst = await build({ concurrency: 1, queue_size: 0, hide_client_headers: true })
  const a = request()
  assert.equal(inst.access!(a), undefined)
  assert.equal(a.responseHeaders, null, 'hide_client_headers')
  const b = request()
  const r = inst.access!(b) as Reply
  assert.equal(r.status, ERRORS.QUEUE_FULL.status)
  assert.deepEqual(r.body, { message: ERRORS.QUEUE_FULL.message, request_id: 'req-1' })
  assert.match(String(r.headers?.['retry-after']), /^[1-9]\d*$/)
  assert.equal(b.get(QUEUED), 'rejected')
  inst.log!(b) // a refused request holds nothing
  inst.log!(a)
  assert.equal(inst.access!(request()), undefined)
})

test('local: routes and consumers are separate scopes', async () => {
  const byRoute = await build({ concurrency: 1 })
  assert.equal(byRoute.access!(request('r1')), undefined)
  assert.equal(byRoute.access!(request('r2')), undefined)
  const byConsumer = await build({ concurrency: 1, limit_by: 'consumer' })
  const alice = request()
  alice.consumer = { id: 'alice' }
  const bob = request()
  bob.consumer = { id: 'bob' }
  assert.equal(byConsumer.access!(alice), undefined)
  assert.equal(byConsumer.access!(bob), undefined)
  assert.equal(byConsumer.access!(request()), undefined, 'anonymous: by client IP, a scope of its own')
  const alice2 = request()
  alice2.consumer = { id: 'alice' }
  assert.ok(isPromise(byConsumer.access!(alice2)))
})

/** The local policy's limits the queue tests start from: one slot, ten waiting. */
const LOCAL_LIMITS = {
  concurrency: 1,
  queueSize: 10,
  maxWaitMs: 60_000,
  leaseMs: 1000,
  pollMs: 100,
  faultTolerant: true,
  waitHeader: false,
}

test('queue: waiters leave in FIFO order, a departed waiter is skipped, timeouts answer 503', async () => {
  const stats = newRequestQueueStats()
  const q = new RequestQueue(LOCAL_LIMITS, stats, null)
  const first = request()
  assert.equal(q.enter(first, 's', 'k'), undefined)
  const order: string[] = []
  const waiters = ['w1', 'w2', 'w3', 'w4'].map((name) => {
    const ctx = request()
    const p = q.enter(ctx, 's', 'k') as Promise<AccessResult>
    void p.then(() => order.push(name))
    return { name, ctx, p }
  })
  assert.equal(stats.waiting, 4)
  q.finish(waiters[1]!.ctx, 'k') // w2's client goes away
  assert.equal(waiters[1]!.ctx.get(QUEUED), 'abandoned')
  q.finish(first, 'k')
  await waiters[0]!.p
  q.finish(waiters[0]!.ctx, 'k')
  await waiters[2]!.p
  q.finish(waiters[2]!.ctx, 'k')
  await waiters[3]!.p
  q.finish(waiters[3]!.ctx, 'k')
  assert.deepEqual(order, ['w2', 'w1', 'w3', 'w4'], 'w2 settles at once (nothing goes upstream for it)')
  assert.deepEqual(
    waiters.map((w) => w.ctx.get(QUEUED)),
    ['waited', 'abandoned', 'waited', 'waited'],
  )
  assert.equal(stats.inFlight, 0)
  assert.equal(stats.waiting, 0)
  assert.equal(q.scopes.size, 0, 'an idle scope is forgotten')

  q.limits = { ...q.limits, maxWaitMs: 20 }
  const holder = request()
  q.enter(holder, 's', 'k')
  const late = request()
  const r = (await q.enter(late, 's', 'k')) as Reply
  assert.equal(r.status, ERRORS.QUEUE_TIMEOUT.status)
  assert.deepEqual(r.body, { message: ERRORS.QUEUE_TIMEOUT.message, request_id: 'req-1' })
  assert.ok(r.headers?.['retry-after'])
  assert.equal(late.get(QUEUED), 'timeout')
  q.finish(late, 'k')
  q.finish(holder, 'k')
  assert.equal(stats.rejectedTimeout, 1)
  assert.equal(stats.inFlight, 0)
})

test('queue: a reload that lowers concurrency lets waiters in only below the new limit', async () => {
  const stats = newRequestQueueStats()
  const limits = { ...LOCAL_LIMITS, concurrency: 3 }
  const q = new RequestQueue(limits, stats, null)
  const holders = [request(), request(), request()]
  for (const h of holders) assert.equal(q.enter(h, 's', 'k'), undefined)
  const waiter = request()
  const waiting = q.enter(waiter, 's', 'k') as Promise<AccessResult>
  q.configure({ ...limits, concurrency: 1 })
  q.finish(holders[0]!, 'k')
  q.finish(holders[1]!, 'k')
  assert.equal(stats.waiting, 1, 'two still held of one allowed: the waiter waits')
  q.finish(holders[2]!, 'k')
  assert.equal(await waiting, undefined)
  assert.equal(stats.inFlight, 1)
  q.finish(waiter, 'k')
  assert.equal(stats.inFlight, 0)
})

/** SharedSlots without Redis: the test answers each acquire itself. */
function fakeSlots() {
  const asks: Array<{ ids: readonly string[]; reply: (granted: number | null) => void }> = []
  const released: string[] = []
  const slots = {
    available: () => true,
    acquire(
      _key: string,
      ids: readonly string[],
      _l: number,
      _ms: number,
      reply: (g: number | null) => void,
    ) {
      asks.push({ ids, reply })
    },
    release(_key: string, ids: readonly string[]) {
      released.push(...ids)
    },
    renew() {},
    listen() {},
    close() {},
  }
  return { slots: slots as unknown as LeaseStore, asks, released }
}

const REDIS_LIMITS = { ...LOCAL_LIMITS, concurrency: 2, leaseMs: 60_000, pollMs: 60_000 }

test('queue, redis policy: a lease granted while its scope went idle is still tracked (renewed)', async () => {
  const fake = fakeSlots()
  const q = new RequestQueue(REDIS_LIMITS, newRequestQueueStats(), fake.slots)
  const a = request()
  const pa = q.enter(a, 's', 'k') as Promise<AccessResult>
  fake.asks[0]!.reply(1)
  assert.equal(await pa, undefined)
  const b = request()
  const pb = q.enter(b, 's', 'k') as Promise<AccessResult>
  q.finish(a, 'k') // the scope has nothing held or waiting while b's answer is on its way
  assert.deepEqual(fake.released, [fake.asks[0]!.ids[0]])
  fake.asks[1]!.reply(1)
  assert.equal(await pb, undefined)
  assert.deepEqual([...q.scopes.get('s')!.leases], [fake.asks[1]!.ids[0]])
  q.finish(b, 'k')
  assert.equal(q.scopes.size, 0)
})

test('queue, redis policy: full → wait; a pump hands slots out in order; Redis failing lets waiters through', async () => {
  const fake = fakeSlots()
  const stats = newRequestQueueStats()
  const q = new RequestQueue(REDIS_LIMITS, stats, fake.slots)
  const ctxs = [request(), request(), request()]
  const ps = ctxs.map((c) => q.enter(c, 's', 'k') as Promise<AccessResult>)
  for (const ask of fake.asks) ask.reply(0) // the set is full elsewhere
  assert.equal(stats.waiting, 3)
  q.limits = { ...q.limits, pollMs: 10 }
  const now = fake.asks.length
  q.configure(q.limits) // pumps: one call for the waiters
  assert.equal(fake.asks.length, now + 1)
  assert.equal(fake.asks[now]!.ids.length, 2, 'as many as the limit')
  fake.asks[now]!.reply(1)
  assert.equal(await ps[0], undefined)
  assert.equal(ctxs[0]!.get(QUEUED), 'waited')
  assert.equal(stats.waiting, 2)
  // Redis fails on the next ask for them: fault_tolerant lets both through without a slot
  await new Promise((r) => setTimeout(r, 30))
  fake.asks.at(-1)!.reply(null)
  assert.deepEqual(await Promise.all(ps.slice(1)), [undefined, undefined])
  assert.deepEqual(
    ctxs.map((c) => c.get(QUEUED)),
    ['waited', 'bypassed', 'bypassed'],
  )
  for (const c of ctxs) q.finish(c, 'k')
  assert.equal(stats.inFlight, 0)
  assert.equal(stats.failedOpen, 2)
  q.close()
})
