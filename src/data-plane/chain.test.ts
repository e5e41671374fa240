import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { test } from 'node:test'
import { RequestContext } from '../core/context.js'
import type { PluginEntity } from '../core/entities.js'
import type { PluginInstance } from '../core/plugin.js'
import { buildChain, resolve, runAccess } from './chain.js'

const entity = (
  id: string,
  name: string,
  scope: { route?: string; service?: string; consumer?: string },
  instanceName?: string,
): PluginEntity => ({
  id,
  name,
  instance_name: instanceName,
  config: {},
  enabled: true,
  protocols: ['http', 'https'],
  route: scope.route ? { id: scope.route } : null,
  service: scope.service ? { id: scope.service } : null,
  consumer: scope.consumer ? { id: scope.consumer } : null,
})

const tagged = (tag: string): PluginInstance & { tag: string } => ({ tag, access: () => undefined })

const ctxFor = (consumer: string | null): RequestContext => {
  const ctx = new RequestContext(
    { method: 'GET', headers: {} } as IncomingMessage,
    {} as ServerResponse,
    'id',
    0,
  )
  ctx.consumer = consumer === null ? null : { id: consumer }
  return ctx
}

const tagOf = (i: PluginInstance | null) => (i as { tag?: string } | null)?.tag ?? null

test("Kong's precedence: the most specific instance wins", () => {
  const all = [
    ['global', {}],
    ['service', { service: 'S' }],
    ['route', { route: 'R' }],
    ['route+service', { route: 'R', service: 'S' }],
    ['consumer', { consumer: 'C' }],
    ['consumer+service', { consumer: 'C', service: 'S' }],
    ['consumer+route', { consumer: 'C', route: 'R' }],
    ['consumer+route+service', { consumer: 'C', route: 'R', service: 'S' }],
  ] as const
  // take instances away from the most specific down: the next one in Kong's order must win
  const order = [
    ['consumer+route+service', 'route+service'],
    ['consumer+route', 'route+service'],
    ['consumer+service', 'route+service'],
    ['route+service', 'route+service'],
    ['consumer', 'route'],
    ['route', 'route'],
    ['service', 'service'],
    ['global', 'global'],
  ]
  for (let drop = 0; drop < order.length; drop++) {
    const keep = new Set(order.slice(drop).map(([k]) => k))
    const built = all
      .filter(([tag]) => keep.has(tag))
      .map(([tag, scope]) => ({ entity: entity(tag, 'p', scope), instance: tagged(tag), priority: 1 }))
    const chain = buildChain(built, 'R', 'S')
    const [withConsumer, without] = order[drop]!
    assert.equal(
      tagOf(resolve(chain.steps[0]!, ctxFor('C'))),
      withConsumer,
      `consumer C after dropping ${drop}`,
    )
    assert.equal(tagOf(resolve(chain.steps[0]!, ctxFor(null))), without, `anonymous after dropping ${drop}`)
  }
})

test('instances of other routes and services do not apply', () => {
  const built = [
    { entity: entity('x', 'p', { route: 'OTHER' }), instance: tagged('x'), priority: 1 },
    { entity: entity('y', 'q', { service: 'OTHER' }), instance: tagged('y'), priority: 1 },
  ]
  assert.equal(buildChain(built, 'R', 'S').steps.length, 0)
})

test('phases run by priority; a reply stops the chain; async handlers continue the chain', async () => {
  const seen: string[] = []
  const mk = (
    name: string,
    priority: number,
    act: () => undefined | { status: number } | Promise<undefined>,
  ) => ({
    entity: entity(name, name, {}),
    instance: {
      access: () => {
        seen.push(name)
        return act()
      },
    } as PluginInstance,
    priority,
  })
  const chain = buildChain(
    [
      mk('low', 1, () => ({ status: 403 })),
      mk('high', 100, () => undefined),
      mk('mid', 50, async () => undefined),
    ],
    null,
    null,
  )
  const r = await runAccess(chain, ctxFor(null))
  assert.deepEqual(seen, ['high', 'mid', 'low'])
  assert.deepEqual(r, { status: 403 })
  // a sync-only chain returns synchronously (no promise)
  const sync = buildChain([mk('a', 2, () => undefined), mk('b', 1, () => undefined)], null, null)
  assert.equal(runAccess(sync, ctxFor(null)), undefined)
})

test('instances of one plugin on the same scope all apply, ordered by instance_name', async () => {
  const seen: string[] = []
  const mk = (tag: string, scope: { route?: string; consumer?: string }, instanceName?: string) => ({
    entity: entity(tag, 'rate-limiting', scope, instanceName),
    instance: {
      tag,
      access: () => {
        seen.push(tag)
        return undefined
      },
    } as PluginInstance,
    priority: 910,
  })
  const pair = [mk('per-client', { route: 'R' }, 'rl-client'), mk('global', { route: 'R' }, 'rl-global')]
  const chain = buildChain([mk('everywhere', {}), ...pair], 'R', 'S')
  assert.equal(chain.access.length, 2, 'the route pair replaces the global instance')
  assert.deepEqual(
    chain.steps.map((s) => tagOf(resolve(s, ctxFor(null)))),
    ['per-client', 'global'],
  )
  await runAccess(chain, ctxFor(null))
  assert.deepEqual(seen, ['per-client', 'global'])

  // another route still gets the global instance alone
  assert.deepEqual(
    buildChain([mk('everywhere', {}), ...pair], 'OTHER', 'S').steps.map((s) =>
      tagOf(resolve(s, ctxFor(null))),
    ),
    ['everywhere'],
  )

  // a consumer's own instance replaces the whole pair for that consumer: the second step is off
  const withConsumer = buildChain([...pair, mk('for-C', { route: 'R', consumer: 'C' })], 'R', 'S')
  seen.length = 0
  await runAccess(withConsumer, ctxFor('C'))
  assert.deepEqual(seen, ['for-C'])
  seen.length = 0
  await runAccess(withConsumer, ctxFor('D'))
  assert.deepEqual(seen, ['per-client', 'global'])
})
