import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeContext } from '../kit/testing.js'
import { findToken, MULTIPLE, type TokenSources } from './token.js'

const sources: TokenSources = {
  uriParams: ['jwt'],
  cookies: ['session'],
  headers: ['authorization', 'x-token'],
}

test('finds the token in the query, a cookie or a Bearer header', () => {
  assert.equal(findToken(fakeContext({ query: 'jwt=t1' }), sources), 't1')
  assert.equal(findToken(fakeContext({ headers: { cookie: 'a=b; session=t2; c=d' } }), sources), 't2')
  assert.equal(findToken(fakeContext({ headers: { authorization: 'Bearer t3' } }), sources), 't3')
  assert.equal(findToken(fakeContext({ headers: { authorization: 'bearer   t4' } }), sources), 't4')
  assert.equal(findToken(fakeContext({ headers: { 'x-token': 'Bearer t5' } }), sources), 't5')
  assert.equal(findToken(fakeContext({ headers: { authorization: 'Basic abc' } }), sources), undefined)
  assert.equal(findToken(fakeContext({ headers: { authorization: 'Bearer ' } }), sources), undefined)
  assert.equal(findToken(fakeContext({ query: 'jwt=' }), sources), undefined)
  assert.equal(findToken(fakeContext({}), sources), undefined)
})

test('the same token in several places is one token; two different ones are refused', () => {
  assert.equal(
    findToken(fakeContext({ query: 'jwt=t1', headers: { authorization: 'Bearer t1' } }), sources),
    't1',
  )
  assert.equal(
    findToken(fakeContext({ query: 'jwt=t1', headers: { authorization: 'Bearer t2' } }), sources),
    MULTIPLE,
  )
  assert.equal(findToken(fakeContext({ query: 'jwt=t1&jwt=t2' }), sources), MULTIPLE)
  assert.equal(
    findToken(fakeContext({ headers: { authorization: 'Bearer t1', 'x-token': 'Bearer t2' } }), sources),
    MULTIPLE,
  )
})

test('only configured sources are read', () => {
  const headerOnly: TokenSources = { uriParams: [], cookies: [], headers: ['authorization'] }
  assert.equal(findToken(fakeContext({ query: 'jwt=t1' }), headerOnly), undefined)
  assert.equal(findToken(fakeContext({ headers: { cookie: 'session=t1' } }), headerOnly), undefined)
})
