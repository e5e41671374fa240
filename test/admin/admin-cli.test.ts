import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { runConfigCli } from '../../src/cli/config.js'
import { createRegistry } from '../../src/plugins/index.js'
import { type AdminNode, adminNode, testPlugins } from '../fixtures/admin-helpers.js'
import { writeConfig } from '../fixtures/helpers.js'

const TOKEN = 'cli-admin-token-0123456789'

function io() {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
      env: {},
      registry: createRegistry(testPlugins),
    },
  }
}

describe('portico config export|apply|diff', () => {
  let a: AdminNode
  let url: string
  before(async () => {
    a = await adminNode({ admin: { host: '127.0.0.1', port: 0 }, adminToken: TOKEN })
    url = a.admin
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } }
    await a.req('POST', '/services', { name: 'users', url: 'http://users.test:8080' }, auth)
    await a.req('POST', '/services', { name: 'legacy', host: 'legacy.test' }, auth)
    await a.req('POST', '/services/users/routes', { name: 'users', paths: ['/users'] }, auth)
  })
  after(() => a.stop())

  const run = async (...args: string[]) => {
    const t = io()
    const code = await runConfigCli([...args, '--admin-url', url, '--admin-token', TOKEN], t.io)
    return { code, out: t.out.join(''), err: t.err.join('') }
  }

  test('export prints the running configuration as YAML or JSON', async () => {
    const yaml = await run('export')
    assert.equal(yaml.code, 0)
    const doc = parse(yaml.out) as { services: Array<{ name: string }> }
    assert.deepEqual(
      doc.services.map((s) => s.name),
      ['users', 'legacy'],
    )
    const json = await run('export', '--format', 'json')
    assert.deepEqual(JSON.parse(json.out), doc)
  })

  test('diff prints added, removed and changed entities by type and name', async () => {
    const file = writeConfig(`_format_version: "3.0"
services:
  - name: users
    url: http://users.test:9090
    routes: [{ name: users, paths: [/users] }]
  - name: billing
    host: billing.test
`)
    const d = await run('diff', file)
    assert.equal(d.code, 1)
    assert.match(d.out, /^services:$/m)
    assert.match(d.out, /^ {2}~ users \(port: 8080 → 9090\)$/m)
    assert.match(d.out, /^ {2}\+ billing$/m)
    assert.match(d.out, /^ {2}- legacy$/m)
    assert.match(d.out, /1 added, 1 removed, 1 changed/)
    const same = writeConfig((await run('export')).out)
    const none = await run('diff', same)
    assert.deepEqual([none.code, none.out], [0, 'no differences\n'])
  })

  test('apply replaces the configuration; an invalid file is refused with its issues', async () => {
    const file = writeConfig(`_format_version: "3.0"\nservices:\n  - { name: applied, host: applied.test }\n`)
    const ok = await run('apply', file)
    assert.equal(ok.code, 0)
    assert.match(ok.out, /applied .*: 1 services/)
    const names = (
      (await a.req('GET', '/services', undefined, { headers: { authorization: `Bearer ${TOKEN}` } })).body
        .data as Array<{ name: string }>
    ).map((s) => s.name)
    assert.deepEqual(names, ['applied'])
    const bad = writeConfig(
      `_format_version: "3.0"\nservices:\n  - { name: bad, host: bad.test, port: 99999 }\n`,
    )
    const refused = await run('apply', bad)
    assert.equal(refused.code, 1)
    assert.match(refused.err, /services\[0\]\.port/)
  })

  test('a wrong token, an unreachable node and bad usage are reported with exit codes', async () => {
    const t = io()
    assert.equal(
      await runConfigCli(['export', '--admin-url', url, '--admin-token', 'wrong-token-0123456789'], t.io),
      2,
    )
    assert.match(t.err.join(''), /401/)
    const down = io()
    assert.equal(await runConfigCli(['export', '--admin-url', 'http://127.0.0.1:1'], down.io), 2)
    const usage = io()
    assert.equal(await runConfigCli(['diff'], usage.io), 2)
    assert.equal(await runConfigCli(['--help'], io().io), 0)
  })
})
