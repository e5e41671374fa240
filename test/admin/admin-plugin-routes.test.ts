import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Router } from '../../src/control-plane/router.js'
import { createRegistry } from '../../src/plugins/index.js'
import { NodeServices } from '../../src/stores/services.js'

test("every plugin's Admin API routes mount beside each other (no conflicting parameter names, no duplicates)", async () => {
  const registry = createRegistry()
  const services = new NodeServices({ redisUrl: undefined, keyPrefix: 'portico:', redisDeadlineMs: 50 })
  const router = new Router<string>()
  const mounted: string[] = []
  try {
    for (const name of registry.names()) {
      for (const route of registry.get(name)?.adminRoutes?.(services) ?? []) {
        assert.doesNotThrow(
          () => router.add(route.method, route.path, name),
          `${name}: ${route.method} ${route.path}`,
        )
        mounted.push(`${route.method} ${route.path}`)
      }
    }
    // the nested proxy-cache forms resolve to their own handlers
    assert.ok(mounted.includes('GET /proxy-cache/:key/caches/:cache_key'), mounted.join('\n'))
    const m = router.match('DELETE', ['proxy-cache', 'p1', 'caches', 'k1'])
    assert.ok(m !== undefined && m !== 'method')
    assert.deepEqual(m.params, { key: 'p1', cache_key: 'k1' })
  } finally {
    await services.close()
  }
})
