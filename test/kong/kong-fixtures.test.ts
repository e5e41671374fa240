// Kong's own declarative files load unchanged: spec/fixtures/burst.yml (a Kong 1.1 file of 236
// services) and the `kong config init` template (kong/templates/kong_yml.lua), as shipped and
// with its commented-out examples switched on. Copies live in test/kong/fixtures/.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseDeclarative } from '../../src/config/declarative.js'
import { createRegistry } from '../../src/plugins/index.js'

// dist/test/kong → the sources' fixtures
const fixtures = join(import.meta.dirname, '..', '..', '..', 'test', 'kong', 'fixtures')
const load = (name: string) => parseDeclarative(readFileSync(join(fixtures, name), 'utf8'), createRegistry())

test('spec/fixtures/burst.yml (format 1.1) loads', () => {
  const { document, issues } = load('burst.yml')
  assert.deepEqual(issues, [])
  assert.equal(document?.services.length, 236)
  assert.equal(document?.routes.length, 286)
  assert.equal(document?.plugins.length, 95)
  assert.equal(document?.upstreams.length, 236)
  assert.equal(document?.targets.length, 237)
  assert.ok(document?.plugins.every((p) => p.name === 'ip-restriction' || p.name === 'prometheus'))
})

test('the `kong config init` template loads as shipped', () => {
  const { document, issues } = load('kong_yml_template.yml')
  assert.deepEqual(issues, [])
  assert.equal(document?.services.length, 0)
})

test('the `kong config init` template loads with its examples switched on', () => {
  const { document, issues } = load('kong_yml_examples_on.yml')
  assert.deepEqual(issues, [])
  assert.deepEqual(
    document?.services.map((s) => s.name),
    ['example-service', 'another-service'],
  )
  assert.deepEqual(
    document?.keyauth_credentials.map((k) => k.key),
    ['my-key'],
  )
  assert.equal(document?.plugins.length, 3)
  const limited = document?.plugins.find((p) => p.consumer !== undefined && p.service !== undefined)
  assert.deepEqual(limited?.tags, ['extra_limits', 'my_tag'])
})
