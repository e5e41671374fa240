import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ConfigDocument, emptyDocument, type ServiceEntity } from '../core/entities.js'
import { configHash } from './hash.js'
import { serviceDefaults } from './testing.js'

const service = (name: string, id: string): ServiceEntity => ({
  id,
  name,
  ...serviceDefaults(),
  host: `${name}.internal`,
})

const doc = (...services: ServiceEntity[]): ConfigDocument => ({ ...emptyDocument(), services })
const A = service('a', '9748f662-7711-4a90-8186-dc02f10eb0f5')
const B = service('b', '0b1ac8f5-7f12-4d4c-a4a6-8a8e7a1f6a71')

test('the hash is sha256 hex and the same for equal documents, whatever their key order', () => {
  const reordered = Object.fromEntries(Object.entries(A).reverse()) as unknown as ServiceEntity
  assert.match(configHash(doc(A)), /^[0-9a-f]{64}$/)
  assert.equal(configHash(doc(reordered)), configHash(doc(A)))
  assert.equal(
    configHash(doc({ ...A, path: undefined })),
    configHash(doc(A)),
    'an undefined field is an absent one',
  )
})

test('any change of content or of definition order changes the hash', () => {
  const base = configHash(doc(A, B))
  assert.notEqual(configHash(doc(B, A)), base)
  assert.notEqual(configHash(doc(A, { ...B, port: 81 })), base)
  assert.notEqual(configHash(doc(A, { ...B, tags: [] })), base)
  assert.notEqual(configHash(emptyDocument()), base)
})
