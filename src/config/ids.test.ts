import assert from 'node:assert/strict'
import { test } from 'node:test'
import { entityId, isUuid, uuidV5 } from './ids.js'

test('uuidV5 matches the RFC 4122 reference value', () => {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
  assert.equal(
    uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
    '2ed6657d-e927-568b-95e1-2665a8aea6a2',
  )
})

test('ids derived from names are the ones Kong and decK generate', () => {
  // reference values from go-kong's FillID tests (kong/ids_test.go)
  assert.equal(entityId('services', 'some.service.name'), 'd9bee1f8-db6e-5a37-9281-fd4aca16dc00')
  assert.equal(entityId('routes', 'some.service.name'), '7f0753cd-bff2-5f74-85b0-e8e2057d9500')
  assert.equal(entityId('consumers', 'some.username'), '782780c4-d345-5682-bdf6-722dccaf93e0')
})

test('isUuid accepts any version in either case and nothing else', () => {
  assert.equal(isUuid('D9BEE1F8-DB6E-5A37-9281-FD4ACA16DC00'), true)
  assert.equal(isUuid('d9bee1f8db6e5a379281fd4aca16dc00'), false)
  assert.equal(isUuid(42), false)
})
