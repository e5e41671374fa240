import assert from 'node:assert/strict'
import { test } from 'node:test'
import { appendArg, decodeArgs, encodeArgs } from './args.js'
import { splitPair } from './pairs.js'
import { appendValue } from './values.js'

test('decodeArgs: bare names, repeats, + and percent escapes, malformed escapes kept', () => {
  const a = decodeArgs('a=1&flag&a=2&c=x+y%21&&=skip&bad=%zz')
  assert.deepEqual(
    [...a],
    [
      ['a', ['1', '2']],
      ['flag', true],
      ['c', 'x y!'],
      ['bad', '%zz'],
    ],
  )
})

test('encodeArgs round-trips and escapes', () => {
  const a = decodeArgs('q=a+b&flag&id=1&id=2')
  appendArg(a, 'id', '3')
  assert.equal(encodeArgs(a), 'q=a%20b&flag&id=1&id=2&id=3')
  assert.equal(encodeArgs(new Map([['k&=', 'v/?#']])), 'k%26%3D=v%2F%3F%23')
})

test("splitPair follows Kong's ^([^:]+):*(.-)$", () => {
  assert.deepEqual(splitPair('x-a:1'), { name: 'x-a', value: '1' })
  assert.deepEqual(splitPair('a::b:c'), { name: 'a', value: 'b:c' })
  assert.deepEqual(splitPair('url:http://h/p'), { name: 'url', value: 'http://h/p' })
  assert.deepEqual(splitPair('name'), { name: 'name', value: '' })
  assert.deepEqual(splitPair('name:'), { name: 'name', value: '' })
})

test("appendValue is Kong's append_value", () => {
  assert.deepEqual(appendValue('a', 'b'), ['a', 'b'])
  assert.deepEqual(appendValue(['a'], 'b'), ['a', 'b'])
  assert.deepEqual(appendValue(undefined, 'b'), ['b'])
  assert.deepEqual(appendValue(true, 'b'), ['b'])
  assert.deepEqual(appendValue(5, 'b'), ['b'])
})
