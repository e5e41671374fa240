import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { DEMO_CONFIG } from '../../src/cli/demo.js'
import { parseDeclarative } from '../../src/config/declarative.js'
import { createRegistry } from '../../src/plugins/index.js'

test('the demo caches /slow and the inference routes (memory strategy, POST caching)', () => {
  const { document, issues } = parseDeclarative(readFileSync(DEMO_CONFIG, 'utf8'), createRegistry())
  assert.deepEqual(issues, [])
  const routeName = new Map(document!.routes.map((r) => [r.id, r.name]))
  const caches = document!.plugins.filter((p) => p.name === 'proxy-cache')
  const byRoute = new Map(
    caches.map((p) => [routeName.get(p.route?.id ?? ''), p.config as Record<string, unknown>]),
  )
  assert.deepEqual([...byRoute.keys()].sort(), ['infer-node', 'infer-python', 'slow'])
  for (const c of byRoute.values()) assert.equal(c.strategy, 'memory')
  assert.equal(byRoute.get('infer-python')!.cache_post, true)
  assert.equal(byRoute.get('slow')!.cache_ttl, 30)
})
