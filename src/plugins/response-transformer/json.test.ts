import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileJsonEntries, type JsonOps, transformJson } from './json.js'

const ops = (over: Partial<JsonOps>): JsonOps => ({
  remove: [],
  rename: [],
  replace: [],
  add: [],
  append: [],
  ...over,
})

test('json_types cast values by position; a number that does not parse is dropped', () => {
  assert.deepEqual(
    compileJsonEntries(
      ['n:3', 'b:true', 'f:no', 's:7', 'bad:x1'],
      ['number', 'boolean', 'boolean', 'string', 'number'],
    ),
    [
      { name: 'n', value: 3 },
      { name: 'b', value: true },
      { name: 'f', value: false },
      { name: 's', value: '7' },
    ],
  )
  assert.deepEqual(compileJsonEntries(['x:'], []), [{ name: 'x', value: 'null' }])
})

test("remove, rename, replace, add, append in Kong's order and rules", () => {
  const out = transformJson(
    '{"secret":1,"old":"v","flag":false,"keep":"k","list":["a"],"s":"x","n":1}',
    ops({
      remove: ['secret'],
      rename: [['old', 'new']],
      replace: [
        { name: 'flag', value: 'r' }, // false is not replaced
        { name: 'keep', value: 'K' },
        { name: 'absent', value: 'no' },
      ],
      add: [
        { name: 'flag', value: 'added' }, // false counts as absent
        { name: 'keep', value: 'no' },
        { name: 'fresh', value: 2 },
      ],
      append: [
        { name: 'list', value: 'b' },
        { name: 's', value: 'y' },
        { name: 'n', value: 'z' },
        { name: 'none', value: 'w' },
      ],
    }),
  )
  assert.deepEqual(JSON.parse(out!), {
    new: 'v',
    flag: 'added',
    keep: 'K',
    list: ['a', 'b'],
    s: ['x', 'y'],
    n: ['z'],
    fresh: 2,
    none: ['w'],
  })
})

test('anything but a JSON object is left alone', () => {
  for (const body of ['[1,2]', 'not json', '42', 'null'])
    assert.equal(transformJson(body, ops({ add: [{ name: 'a', value: 1 }] })), null, body)
})

test('__proto__ is an ordinary property', () => {
  const out = transformJson('{}', ops({ add: [{ name: '__proto__', value: 'x' }] }))
  assert.equal(out, '{"__proto__":"x"}')
})
