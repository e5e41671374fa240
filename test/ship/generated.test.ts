import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { configJsonSchema, fields } from '../../scripts/reference.js'
import { createRegistry } from '../../src/plugins/index.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const { generatedFiles } = await import('../../scripts/generated.js')

test('every plugin schema field has a description (Kong fields Portico refuses aside)', () => {
  const registry = createRegistry()
  const missing: string[] = []
  for (const name of registry.names()) {
    for (const f of fields(configJsonSchema(registry.get(name)!.schema))) {
      if (!f.unsupported && (f.description === undefined || f.description.trim() === ''))
        missing.push(`${name}: config.${f.path}`)
    }
  }
  assert.deepEqual(missing, [], 'describe these fields in their schema.ts (.describe(…))')
})

test('the generated pages and files are up to date (npm run docs rewrites them)', async () => {
  const stale: string[] = []
  for (const [path, text] of await generatedFiles()) {
    let current = ''
    try {
      current = readFileSync(`${ROOT}${path}`, 'utf8')
    } catch {}
    if (current !== text) stale.push(path)
  }
  assert.deepEqual(stale, [], 'run `npm run docs` and commit the result')
})

test('a field without a description is found', () => {
  const list = fields(configJsonSchema(z.object({ a: z.string().describe('described'), b: z.number() })))
  assert.deepEqual(
    list.filter((f) => f.description === undefined).map((f) => f.path),
    ['b'],
  )
})
