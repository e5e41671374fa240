import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ConsumerInfo, CredentialInfo } from '../../core/context.js'
import type { PluginInstance } from '../../core/plugin.js'
import { body, edits, fakeContext, run, testEnv } from '../kit/testing.js'
import { plugin } from './plugin.js'

const consumers = [
  { id: 'c-admin', username: 'admin' },
  { id: 'c-user', username: 'user' },
  { id: 'c-loner', username: 'loner' },
]
const acls = [
  { id: 'a1', consumer: { id: 'c-admin' }, group: 'admins' },
  { id: 'a2', consumer: { id: 'c-admin' }, group: 'users' },
  { id: 'a3', consumer: { id: 'c-user' }, group: 'users' },
]
const cred: CredentialInfo = { id: 'k', identifier: 'k' }

function build(config: Record<string, unknown>): PluginInstance {
  return plugin.create(plugin.schema.parse(config), testEnv({ consumers, acls })) as PluginInstance
}
function as(consumer: string | null, headers: Record<string, string> = {}, anonymous = false) {
  const ctx = fakeContext({ headers })
  if (consumer !== null) {
    ctx.consumer = { id: consumer } as ConsumerInfo
    ctx.credential = anonymous ? null : cred
    ctx.anonymous = anonymous
  }
  return ctx
}

test('schema: exactly one of allow and deny; Kong 3.x fields', () => {
  assert.deepEqual(plugin.schema.parse({ allow: ['a'] }), {
    allow: ['a'],
    hide_groups_header: false,
    always_use_authenticated_groups: false,
    include_consumer_groups: false,
  })
  assert.equal(plugin.schema.safeParse({}).success, false)
  assert.equal(plugin.schema.safeParse({ allow: ['a'], deny: ['b'] }).success, false)
  assert.equal(plugin.schema.safeParse({ whitelist: ['a'] }).success, false)
  assert.equal(plugin.schema.safeParse({ allow: ['a'], include_consumer_groups: true }).success, false)
  assert.equal(plugin.priority, 950)
})

test('allow: members pass with X-Consumer-Groups, others get 403', async () => {
  const access = build({ allow: ['admins'] }).access
  const admin = as('c-admin', { 'x-consumer-groups': 'spoofed' })
  assert.equal(await run(access, admin), undefined)
  assert.equal(edits(admin)['x-consumer-groups'], 'admins, users')
  const user = await run(access, as('c-user'))
  assert.equal(user?.status, 403)
  assert.equal(body(user).message, 'You cannot consume this service')
  const loner = await run(access, as('c-loner'))
  assert.equal(loner?.status, 403, 'authenticated, in no group')
})

test('deny: members get 403, everyone else passes (a consumer in no group too)', async () => {
  const access = build({ deny: ['admins'] }).access
  assert.equal((await run(access, as('c-admin')))?.status, 403)
  const user = as('c-user')
  assert.equal(await run(access, user), undefined)
  assert.equal(edits(user)['x-consumer-groups'], 'users')
  const loner = as('c-loner')
  assert.equal(await run(access, loner), undefined)
  assert.equal(edits(loner)['x-consumer-groups'], '')
})

test('no consumer identified: 401 Unauthorized (Kong 3.x)', async () => {
  const r = await run(build({ allow: ['users'] }).access, as(null))
  assert.equal(r?.status, 401)
  assert.equal(body(r).message, 'Unauthorized')
})

test('an anonymous consumer is judged by its own groups; in none, 401 rather than 403', async () => {
  const access = build({ allow: ['users'] }).access
  assert.equal(await run(access, as('c-user', {}, true)), undefined)
  const r = await run(access, as('c-loner', {}, true))
  assert.equal(r?.status, 401)
})

test('hide_groups_header removes the header, including a client-sent one', async () => {
  const ctx = as('c-admin', { 'x-consumer-groups': 'spoofed', 'x-authenticated-groups': 'spoofed' })
  assert.equal(await run(build({ allow: ['admins'], hide_groups_header: true }).access, ctx), undefined)
  assert.equal(edits(ctx)['x-consumer-groups'], null)
  assert.equal(edits(ctx)['x-authenticated-groups'], null)
})
