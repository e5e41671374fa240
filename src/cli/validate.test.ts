import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { after, before, test } from 'node:test'
import { z } from 'zod'
import type { PluginRegistry } from '../core/plugin.js'
import { runValidate } from './validate.js'

// Test data: one plugin definition with a real schema.
const registry: PluginRegistry = {
  get: (name) =>
    name === 'rate-limiting'
      ? {
          name,
          priority: 910,
          schema: z.strictObject({ minute: z.number().default(60) }),
          create: () => ({}),
        }
      : undefined,
  names: () => ['rate-limiting'],
}

let dir = ''
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-validate-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function run(name: string, content?: string): Promise<{ code: number; output: string }> {
  const file = join(dir, name)
  if (content !== undefined) await writeFile(file, content)
  const out = new PassThrough()
  let output = ''
  out.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const code = await runValidate(file, registry, out)
  return { code, output }
}

test('a valid file prints what it holds and exits 0', async () => {
  const { code, output } = await run(
    'kong.yaml',
    `_format_version: "3.0"
services:
  - name: a
    url: http://a.internal
    routes: [{ paths: [/a] }, { paths: [/b] }]
    plugins: [{ name: rate-limiting }]
consumers: [{ username: alice, keyauth_credentials: [{ key: k }] }]
`,
  )
  assert.equal(code, 0)
  assert.equal(
    output,
    'ok: 1 service, 2 routes, 1 consumer, 1 plugin, 0 upstreams, 0 targets, 1 key-auth credential, ' +
      '0 jwt secrets, 0 basic-auth credentials, 0 acls\n',
  )
})

test('an invalid file prints every issue as path: message and exits 1', async () => {
  const { code, output } = await run(
    'bad.json',
    JSON.stringify({
      _format_version: '3.0',
      services: [{ host: 'a', port: 0.5, routes: [{ paths: ['x'] }] }],
    }),
  )
  assert.equal(code, 1)
  assert.deepEqual(output.trimEnd().split('\n'), [
    'services[0].port: expected an integer',
    'services[0].routes[0].paths[0]: should start with: / (fixed path) or ~/ (regex path)',
  ])
})

test('issues about the whole file are prefixed with its name', async () => {
  const { code, output } = await run('broken.yaml', 'services: [\n')
  assert.equal(code, 1)
  assert.match(output, /broken\.yaml: invalid YAML at line \d+, column \d+/)
})

test('a missing file is reported and exits 1', async () => {
  const { code, output } = await run('missing.yaml')
  assert.equal(code, 1)
  assert.equal(output, `${join(dir, 'missing.yaml')}: cannot read the file: no such file\n`)
})
