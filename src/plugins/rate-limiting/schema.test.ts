import assert from 'node:assert/strict'
import { test } from 'node:test'
import { errorMap, toConfigIssues } from '../../config/issues.js'
import { schema } from './schema.js'

const issues = (config: unknown) => {
  const r = schema.safeParse(config, { error: errorMap })
  return r.success ? [] : toConfigIssues('config', r.error.issues)
}
const issueAt = (config: unknown, path: string): string => {
  const found = issues(config).find((i) => i.path === path)
  assert.ok(found, `no issue at ${path}: ${JSON.stringify(issues(config))}`)
  return found.message
}

test("Kong's defaults", () => {
  assert.deepEqual(schema.parse({ minute: 5 }), {
    minute: 5,
    limit_by: 'consumer',
    policy: 'local',
    fault_tolerant: true,
    hide_client_headers: false,
    error_code: 429,
    error_message: 'API rate limit exceeded',
    sync_rate: -1,
    lease: true,
    algorithm: 'fixed-window',
    local_max_keys: 1_000_000,
  })
})

test('every Kong 3.x field is accepted', () => {
  const config = {
    second: 1,
    minute: 2,
    hour: 3,
    day: 4,
    month: 5,
    year: 6,
    limit_by: 'header',
    header_name: 'x-api-key',
    path: '/a',
    policy: 'redis',
    fault_tolerant: false,
    redis: {
      host: 'redis.internal',
      port: 6380,
      timeout: 100,
      username: 'u',
      password: 'p',
      database: 2,
      ssl: true,
      ssl_verify: true,
      server_name: 'redis.internal',
    },
    hide_client_headers: true,
    error_code: 403,
    error_message: 'slow down',
    sync_rate: -1,
  }
  assert.deepEqual(issues(config), [])
  // Kong exports every unset field as null: the loader removes nulls before the schema
  assert.equal(schema.parse({ ...config, policy: 'cluster' }).policy, 'cluster')
})

test("Kong's deprecated redis_* fields fold into redis; a contradiction is an error", () => {
  const c = schema.parse({
    minute: 1,
    policy: 'redis',
    redis_host: 'h',
    redis_port: 7000,
    redis_password: 'pw',
    redis_username: 'u',
    redis_ssl: true,
    redis_ssl_verify: true,
    redis_server_name: 'sni',
    redis_timeout: 80,
    redis_database: 3,
  })
  assert.deepEqual(c.redis, {
    host: 'h',
    port: 7000,
    password: 'pw',
    username: 'u',
    ssl: true,
    ssl_verify: true,
    server_name: 'sni',
    timeout: 80,
    database: 3,
  })
  assert.equal('redis_host' in c, false)
  assert.match(
    issueAt({ minute: 1, policy: 'redis', redis_host: 'a', redis: { host: 'b' } }, 'config.redis_host'),
    /conflicts with config.redis.host/,
  )
})

test("Kong's rules: a limit is required, > 0, and longer periods may not allow fewer", () => {
  assert.match(issueAt({}, 'config'), /at least one of these fields must be non-empty/)
  assert.match(issueAt({ minute: 0 }, 'config.minute'), /> 0/)
  assert.equal(
    issueAt({ second: 10, hour: 5 }, 'config.hour'),
    'The limit for hour(5.0) cannot be lower than the limit for second(10.0)',
  )
  assert.match(issueAt({ minute: 1, limit_by: 'header' }, 'config.header_name'), /required/)
  assert.match(issueAt({ minute: 1, limit_by: 'path' }, 'config.path'), /required/)
  assert.match(issueAt({ minute: 1, limit_by: 'cookie' }, 'config.limit_by'), /expected one of/)
  assert.match(issueAt({ minute: 1, policy: 'db' }, 'config.policy'), /expected one of/)
  assert.match(issueAt({ minute: 1, error_code: 0 }, 'config.error_code'), /> 0/)
  assert.match(issueAt({ minute: 1, header_name: 'a b' }, 'config.header_name'), /bad header name/)
  assert.match(issueAt({ minute: 1, minutes: 1 }, 'config.minutes'), /unknown field/)
})

test('sync_rate: only -1 (synchronous), which is what Portico always does', () => {
  assert.equal(schema.parse({ minute: 1, policy: 'redis', sync_rate: -1 }).sync_rate, -1)
  assert.match(issueAt({ minute: 1, policy: 'redis', sync_rate: 0.5 }, 'config.sync_rate'), /only -1/)
})

test("Portico's fields: algorithm, burst (token bucket only), scope_name, local_max_keys", () => {
  const c = schema.parse({ second: 20, algorithm: 'token-bucket', burst: 40, scope_name: 'client' })
  assert.equal(c.algorithm, 'token-bucket')
  assert.equal(c.burst, 40)
  assert.equal(c.scope_name, 'client')
  assert.match(issueAt({ minute: 1, burst: 3 }, 'config.burst'), /token-bucket only/)
  assert.match(issueAt({ minute: 1, algorithm: 'leaky' }, 'config.algorithm'), /expected one of/)
  assert.match(issueAt({ minute: 1, scope_name: 'a b' }, 'config.scope_name'), /letters, digits/)
  assert.match(issueAt({ minute: 1, local_max_keys: 0 }, 'config.local_max_keys'), />= 1/)
  assert.match(issueAt({ minute: 1, redis: { host: 'h' } }, 'config.redis.host'), /need policy redis/)
})
