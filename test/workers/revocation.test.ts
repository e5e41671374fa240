import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { type PrivateRedis, privateRedis } from '../fixtures/control-plane-redis-server.js'
import { sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { SECRET } from '../fixtures/jwt-helpers.js'
import { type Answer, admin, burst, get, startWorkers, type WorkerNode } from '../fixtures/workers.js'

// JWT revocation on a node with workers and Redis: the Admin API answers once every worker
// applied the change (as a configuration write does), and a worker that does not in time makes
// the answer a 503 naming it. The Redis announcement alone reaches the workers too, but nothing
// would tell the Admin API when.

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url')
const token = (jti: string) => {
  const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify({ iss: 'alice-iss', jti, exp: 4102444800 }))}`
  return `${input}.${b64(createHmac('sha256', SECRET).update(input).digest())}`
}

const config = (url: string) => `_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: secured, paths: [/secured], plugins: [{ name: jwt }] }
consumers:
  - username: alice
    jwt_secrets: [{ key: alice-iss, algorithm: HS256, secret: ${SECRET} }]
`

describe('2 workers, redis store: a JWT revocation is applied by every worker before the answer', () => {
  let up: Upstream
  let redis: PrivateRedis
  let node: WorkerNode
  before(async () => {
    up = await upstream('up')
    redis = await privateRedis()
    node = await startWorkers(2, config(up.url), { store: 'redis', redisUrl: redis.url })
  })
  after(async () => {
    await node?.stop()
    await redis?.close()
    await up?.close()
  })

  /** statuses of `n` requests with the token on new connections (spread over both workers) */
  const statusesWith = (t: string, n = 6) =>
    burst(n, 2, () => get(node.proxy, '/secured', { headers: { authorization: `Bearer ${t}` } }))

  test('revoked: every worker refuses when the call returns; lifted: every worker admits', async () => {
    const t = token('w-1')
    assert.deepEqual(await statusesWith(t), new Array(6).fill(200))
    const r = await admin(node, 'POST', '/jwt/revocations', { jti: 'w-1' })
    assert.equal(r.status, 201, r.body)
    assert.equal((JSON.parse(r.body) as { propagated: boolean }).propagated, true)
    assert.deepEqual(await statusesWith(t), new Array(6).fill(401))
    const d = await admin(node, 'DELETE', '/jwt/revocations/w-1')
    assert.equal(d.status, 204, d.body)
    assert.deepEqual(await statusesWith(t), new Array(6).fill(200))
  })

  test('a worker that cannot apply it in time: 503 naming it; it applies it once it runs again', async () => {
    const workers = await node.workersWhere((w) => w.length === 2 && w.every((x) => x.ready), 'ready')
    const stopped = workers.find((w) => w.slot === 2)!
    const t = token('w-2')
    process.kill(stopped.pid, 'SIGSTOP')
    const late: Array<Promise<Answer | null>> = []
    let answer: Answer | null = null
    try {
      // the stopped worker takes at most one connection (node:cluster hands the next ones to the
      // worker that acknowledged its last): a POST it took waits, and the next one is asked
      for (let i = 0; i < 3 && answer === null; i++) {
        const call = admin(node, 'POST', '/jwt/revocations', { jti: 'w-2' }).catch(() => null)
        answer = await Promise.race([call, sleep(6000).then(() => null)])
        if (answer === null) late.push(call)
      }
    } finally {
      process.kill(stopped.pid, 'SIGCONT')
    }
    assert.ok(answer !== null, 'no worker answered the POST')
    assert.equal(answer.status, 503, answer.body)
    assert.match(
      (JSON.parse(answer.body) as { message: string }).message,
      /^the revocation is applied here, but worker 2 did not apply it in time$/,
    )
    await Promise.all(late)
    // running again, the late worker applied the relayed change (and Redis's announcement)
    let statuses: number[] = []
    for (let i = 0; i < 50; i++) {
      statuses = await statusesWith(t)
      if (statuses.every((s) => s === 401)) break
      await sleep(100)
    }
    assert.deepEqual(statuses, new Array(6).fill(401))
  })
})
