// Port of Kong 3.10 spec/03-plugins/15-response-transformer/03-api_spec.lua: each case carries
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
  const res = await a.req('POST', '/plugins', { name: 'response-transformer', config })
  if (res.status === 201) await a.req('DELETE', `/plugins/${res.body.id}`)
  return res
}
const fieldsOf = (res: { body: Json }) => (res.body.fields as { config: Record<string, Json> }).config

describe('Plugin: response-transformer (API) validate config parameters', () => {
  it('remove succeeds without colons', async () => {
    const res = await post({ remove: { headers: ['just_a_key'], json: ['just_a_key'] } })
    assert.equal(res.status, 201, res.text)
    const remove = (res.body.config as { remove: Record<string, string[]> }).remove
    assert.equal(remove.headers?.[0], 'just_a_key')
    assert.equal(remove.json?.[0], 'just_a_key')
  })
  it('rename succeeds with colons', async () => {
    const res = await post({
      rename: { headers: ['x-request-id:x-custom-request-id'], json: ['old_key:new_key'] },
    })
    assert.equal(res.status, 201, res.text)
    const rename = (res.body.config as { rename: Record<string, string[]> }).rename
    assert.equal(rename.headers?.[0], 'x-request-id:x-custom-request-id')
    assert.equal(rename.json?.[0], 'old_key:new_key')
  })
  it('rename fails with missing colons for header old_name/new_name separation', async () => {
    const res = await post({ rename: { headers: ['x-request-idx-custom-request-id'] } })
    assert.equal(res.status, 400)
    assert.equal(res.body.name, 'schema violation')
    assert.deepEqual(fieldsOf(res).rename?.headers, ['invalid value: x-request-idx-custom-request-id'])
  })
  it('rename fails with invalid header name for old_name or new_name separation', async () => {
    const res = await post({ rename: { headers: ['x-requ,est-id:x-custom-request-id'] } })
    assert.equal(res.status, 400)
    assert.equal(res.body.name, 'schema violation')
    assert.deepEqual(fieldsOf(res).rename?.headers, ["'x-requ,est-id' is not a valid header"])
  })
  for (const op of ['add', 'replace', 'append'])
    it(`${op} fails with missing colons for key/value separation`, async () => {
      const res = await post({ [op]: { headers: ['just_a_key'] } })
      assert.equal(res.status, 400)
      assert.equal(res.body.name, 'schema violation')
      assert.deepEqual(fieldsOf(res)[op]?.headers, ['invalid value: just_a_key'])
    })
  it('it does not allow null value for arrays', async () => {
    const two = { headers: null, json: null }
    const three = { headers: null, json: null, json_types: null }
    const res = await post({ remove: two, rename: two, replace: three, add: three, append: three })
    assert.equal(res.status, 400)
    const m = 'required field missing'
    assert.deepEqual(fieldsOf(res), {
      remove: { headers: m, json: m },
      rename: { headers: m, json: m },
      replace: { headers: m, json: m, json_types: m },
      add: { headers: m, json: m, json_types: m },
      append: { headers: m, json: m, json_types: m },
    })
  })
})
