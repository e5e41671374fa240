import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { aclRule } from '../../src/stores/redis/acl.js'
import { NodeServices } from '../../src/stores/services.js'
import {
  checkCache,
  checkConfig,
  checkLimits,
  checkQueue,
  checkRegistry,
  checkRevocation,
  type Fleet,
  startFleet,
} from '../fixtures/redis-features.js'
import { freePort, ServerProcess } from '../fixtures/redis-topology.js'

const run = promisify(execFile)
const PASSWORD = 'portico-acl-test-password'

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl for this run. */
async function certificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (n: string) => join(dir, n)
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir })
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=portico-test-ca',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  )
  await ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  )
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  await ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('san.ext'),
    '-out',
    f('server.crt'),
  )
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') }
}

describe('rediss:// with a CA file and verification, as an ACL user allowed only what Portico needs', () => {
  let dir: string
  let server: ServerProcess
  let ca: string
  let port: number
  let f: Fleet | undefined
  let skip: string | undefined

  before(async () => {
    const version = (await run('redis-server', ['--version'])).stdout
    dir = mkdtempSync(join(tmpdir(), 'portico-tls-'))
    const certs = await certificates(dir)
    ca = certs.ca
    writeFileSync(
      join(dir, 'users.acl'),
      `user default off\nuser portico ${aclRule('portico:')} >${PASSWORD}\n`,
    )
    port = await freePort()
    server = new ServerProcess(
      port,
      [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--tls-cert-file',
        certs.cert,
        '--tls-key-file',
        certs.key,
        '--tls-ca-cert-file',
        certs.ca,
        '--tls-auth-clients',
        'no',
        '--aclfile',
        join(dir, 'users.acl'),
        '--dir',
        dir,
      ],
      'tcp',
    )
    // a redis-server built without TLS refuses --tls-port and exits
    if (!(await server.start())) skip = `redis-server without TLS support (${version.trim()})`
  })
  after(async () => {
    await f?.close()
    await server?.kill()
    rmSync(dir, { recursive: true, force: true })
  })

  const url = () => `rediss://portico:${PASSWORD}@127.0.0.1:${port}?ca_file=${encodeURIComponent(ca)}`

  test('every feature works over TLS (certificate verified) as the ACL user', async (t) => {
    if (skip !== undefined) return t.skip(skip)
    f = await startFleet(url(), 500, 'portico:')
    assert.equal(f.nodes[0]!.node.services.redisStatus()[0]!.status, 'ready')
    await checkConfig(f, 't1')
    await checkRegistry(f, 't1')
    await checkLimits(f, 't1')
    await checkQueue(f, 't1')
    await checkCache(f, 't1')
    await checkRevocation(f, 't1')
  })

  test('verification is on: without the CA the connection is refused; the ACL refuses the rest', async (t) => {
    if (skip !== undefined) return t.skip(skip)
    const noCa = new NodeServices({
      redisUrl: `rediss://portico:${PASSWORD}@127.0.0.1:${port}`,
      keyPrefix: 'portico:',
      redisDeadlineMs: 500,
    })
    const wrongName = new NodeServices({
      redisUrl: `${url()}&server_name=not-this-host`,
      keyPrefix: 'portico:',
      redisDeadlineMs: 500,
    })
    const asDefault = new NodeServices({
      redisUrl: `rediss://127.0.0.1:${port}?ca_file=${encodeURIComponent(ca)}`,
      keyPrefix: 'portico:',
      redisDeadlineMs: 500,
    })
    const ok = new NodeServices({ redisUrl: url(), keyPrefix: 'portico:', redisDeadlineMs: 2000 })
    try {
      await Promise.all([noCa, wrongName, asDefault].map((s) => s.redis().whenReady(1500)))
      assert.equal(noCa.redis().ready, false, 'an unknown CA is refused')
      assert.equal(wrongName.redis().ready, false, 'a name the certificate does not carry is refused')
      assert.equal(asDefault.redis().ready, false, 'the default user is off')
      const conn = ok.redis()
      await conn.whenReady(2000)
      assert.equal(conn.ready, true)
      await assert.rejects(conn.call('flushall', []), /NOPERM/)
      await assert.rejects(conn.call('get', ['other-app:key']), /NOPERM/)
      await assert.rejects(conn.call('config', ['get', 'maxmemory']), /NOPERM/)
      assert.equal(await conn.call('get', ['portico:nothing-here']), null)
    } finally {
      await Promise.all([noCa, wrongName, asDefault, ok].map((s) => s.close()))
    }
  })

  test('the README documents this ACL line', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
    assert.ok(readme.includes(`ACL SETUSER portico ${aclRule('portico:')} >`), 'README has the ACL line')
  })
})
