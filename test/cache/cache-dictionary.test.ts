import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CacheNode } from '../../src/plugins/proxy-cache/node.js'
import { NodeServices } from '../../src/stores/services.js'

const attach = (node: CacheNode, id: string, dictionary: string, budget: number) =>
  node.attach(id, {
    scope: {},
    strategy: 'memory',
    ttl: 300,
    memory: node.dictionary(dictionary, id, budget),
    dictionary,
    redis: null,
    bus: null,
  })

test('a shared memory dictionary gets the largest budget of the instances using it, in any build order', () => {
  const node = new CacheNode(new NodeServices({ redisUrl: undefined, keyPrefix: 'p:', redisDeadlineMs: 50 }))
  const big = attach(node, 'big', 'shared', 10_000)
  const small = attach(node, 'small', 'shared', 1_000)
  assert.equal(small.inst.memory, big.inst.memory, 'one LRU')
  assert.equal(small.inst.memory.budget, 10_000, 'the smaller budget built last does not shrink it')
  const own = attach(node, 'own', 'private', 500)
  assert.equal(own.inst.memory.budget, 500)
  // the larger instance goes away: the dictionary is sized by those left
  big.detach()
  assert.equal(small.inst.memory.budget, 1_000)
  // a reload that moves an instance to another dictionary: it no longer sizes the old one
  const moved = attach(node, 'small', 'private', 2_000)
  assert.equal(moved.inst.memory.budget, 2_000)
  small.detach()
  assert.equal(own.inst.memory.budget, 2_000)
})
