import assert from 'node:assert/strict'
import { test } from 'node:test'
import { queryParam, withoutParams } from './query.js'

test('queryParam reads one parameter as Kong decodes it', () => {
  assert.equal(queryParam('', 'apikey'), undefined)
  assert.equal(queryParam('apikey=k1', 'apikey'), 'k1')
  assert.equal(queryParam('a=1&apikey=k%201&b=2', 'apikey'), 'k 1')
  assert.equal(queryParam('apikey=k+1', 'apikey'), 'k 1')
  assert.equal(queryParam('api%6Bey=k1', 'apikey'), 'k1')
  assert.equal(queryParam('apikey=', 'apikey'), '')
  assert.equal(queryParam('apikey', 'apikey'), true)
  assert.equal(queryParam('APIKEY=k1', 'apikey'), undefined)
  assert.deepEqual(queryParam('apikey=a&x=1&apikey=b', 'apikey'), ['a', 'b'])
  assert.deepEqual(queryParam('apikey=a&apikey&apikey=c', 'apikey'), ['a', '', 'c'])
  assert.equal(queryParam('&&apikey=z&&', 'apikey'), 'z')
  // a broken escape is kept as sent rather than throwing
  assert.equal(queryParam('apikey=%E0%A4%A', 'apikey'), '%E0%A4%A')
})

test('withoutParams drops the named parameters and keeps the rest byte for byte', () => {
  const names = new Set(['apikey'])
  assert.equal(withoutParams('a=1&apikey=k&b=%20x', names), 'a=1&b=%20x')
  assert.equal(withoutParams('apikey=k', names), '')
  assert.equal(withoutParams('api%6Bey=k&c', names), 'c')
  assert.equal(withoutParams('apikey&apikey=2&z=3', names), 'z=3')
  assert.equal(withoutParams('', names), '')
})
