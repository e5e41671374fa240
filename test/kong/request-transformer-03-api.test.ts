// Port of Kong 3.10 spec/03-plugins/36-request-transformer/03-api_spec.lua: each case carries
// the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

type Json = Record<string, unknown>
let a: AdminNode
before(async () => {
  a = await adminNode({}, null, [])
})
after(() => a.stop())

const post = async (config: Json) => {
  const res = await a.req('POST', '/plugins', { name: 'request-transformer', config })
  if (res.status === 201) await a.req('DELETE', `/plugins/${res.body.id}`)
  return res
}

describe('Plugin: request-transformer (API) validate config parameters', () => {
  it('remove succeeds without colons', async () => {
    const res = await post({
      remove: { headers: ['just_a_key'], body: ['just_a_key'], querystring: ['just_a_key'] },
    })
    assert.equal(res.status, 201, res.text)
    const remove = (res.body.config as { remove: Record<string, string[]> }).remove
    assert.equal(remove.headers?.[0], 'just_a_key')
    assert.equal(remove.body?.[0], 'just_a_key')
    assert.equal(remove.querystring?.[0], 'just_a_key')
  })
  for (const op of ['add', 'replace', 'append'])
    it(`${op} fails with missing colons for key/value separation`, async () => {
      const res = await post({ [op]: { headers: ['just_a_key'] } })
      assert.equal(res.status, 400)
      assert.deepEqual(res.body.fields, { config: { [op]: { headers: ['invalid value: just_a_key'] } } })
    })
  it('it does not allow null value for arrays', async () => {
    const nulls = { body: null, headers: null, querystring: null }
    const res = await post({ remove: nulls, rename: nulls, replace: nulls, add: nulls, append: nulls })
    assert.equal(res.status, 400)
    const missing = {
      body: 'required field missing',
      headers: 'required field missing',
      querystring: 'required field missing',
    }
    assert.deepEqual((res.body.fields as Json).config, {
      remove: missing,
      rename: missing,
      replace: missing,
      add: missing,
      append: missing,
    })
  })
})
