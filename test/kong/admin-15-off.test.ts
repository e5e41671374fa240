// Port of Kong 3.10 spec/02-integration/04-admin_api/15-off_spec.lua (the `/config` cases):
// each case carries the name of the Kong `it(...)` it transcribes.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parse } from 'yaml'
import { type AdminNode, adminNode } from '../fixtures/admin-helpers.js'

let a: AdminNode
before(async () => {
  a = await adminNode({}, null, [])
})
after(() => a.stop())

const yaml = (text: string) => ({ headers: { 'content-type': 'application/yaml' }, body: text })
const unindent = (text: string) => text.replace(/^ {12}/gm, '')

describe('Admin API #off /config POST', () => {
  it('accepts configuration as JSON body', async () => {
    const res = await a.req('POST', '/config', {
      _format_version: '1.1',
      consumers: [{ username: 'bobby_in_json_body' }],
    })
    assert.equal(res.status, 201)
  })
  it('accepts configuration as YAML body', async () => {
    const y = yaml('_format_version: "1.1"\nconsumers:\n  - username: "bobby_in_yaml_body"\n')
    assert.equal((await a.req('POST', '/config', y.body, { headers: y.headers })).status, 201)
  })
  it('accepts configuration as a JSON string under `config` JSON key', async () => {
    const config =
      '{ "_format_version" : "1.1", "consumers" : [ { "username" : "bobby_in_json_under_config" } ] }'
    assert.equal((await a.req('POST', '/config', { config })).status, 201)
  })
  it('accepts configuration as a YAML string under `config` JSON key', async () => {
    const config = '_format_version: "1.1"\nconsumers:\n  - username: "bobby_in_yaml_under_config"\n'
    assert.equal((await a.req('POST', '/config', { config })).status, 201)
  })
  it('accepts configuration containing null as a YAML string', async () => {
    const config = '_format_version: "1.1"\nroutes:\n- paths:\n  - "/"\n  service: null\n'
    assert.equal((await a.req('POST', '/config', { config })).status, 201)
  })
  it('returns 304 if checking hash and configuration is identical', async () => {
    const config = '_format_version: "1.1"\nconsumers:\n- username: bobby_tables\n'
    assert.equal((await a.req('POST', '/config?check_hash=1', { config })).status, 201)
    assert.equal((await a.req('POST', '/config?check_hash=1', { config })).status, 304)
  })
  it('returns 400 on an invalid config string', async () => {
    const res = await a.req('POST', '/config', { config: 'bobby tables' })
    assert.equal(res.status, 400)
    assert.deepEqual(
      { code: res.body.code, fields: res.body.fields, message: res.body.message, name: res.body.name },
      {
        code: 14,
        fields: { error: 'failed parsing declarative configuration: expected an object' },
        message:
          'declarative config is invalid: {error="failed parsing declarative configuration: expected an object"}',
        name: 'invalid declarative configuration',
      },
    )
  })
  it('returns 400 on a validation error', async () => {
    const config = unindent(`_format_version: "1.1"
            services:
            - port: -12
            `)
    const res = await a.req('POST', '/config', { config })
    assert.equal(res.status, 400)
    assert.deepEqual(
      { code: res.body.code, fields: res.body.fields, message: res.body.message, name: res.body.name },
      {
        code: 14,
        fields: {
          services: [{ host: 'required field missing', port: 'value should be between 0 and 65535' }],
        },
        message:
          'declarative config is invalid: {services={{host="required field missing",port="value should be between 0 and 65535"}}}',
        name: 'invalid declarative configuration',
      },
    )
  })
  it('returns 400 on an primary key uniqueness error', async () => {
    const config = unindent(`_format_version: "1.1"
            services:
            - id: 0855b320-0dd2-547d-891d-601e9b38647f
              name: foo
              host: example.com
            - id: 0855b320-0dd2-547d-891d-601e9b38647f
              name: bar
              host: example.test
            `)
    const res = await a.req('POST', '/config', { config })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 14)
    const services = (res.body.fields as { services: unknown[] }).services
    assert.equal(services[0], null)
    assert.match(JSON.stringify(services[1]), /0855b320-0dd2-547d-891d-601e9b38647f/)
  })
  it('returns 400 on an endpoint key uniqueness error', async () => {
    const config =
      '_format_version: "1.1"\nservices:\n- name: foo\n  host: example.com\n- name: foo\n  host: example.test\n'
    const res = await a.req('POST', '/config', { config })
    assert.equal(res.status, 400)
    const services = (res.body.fields as { services: unknown[] }).services
    assert.equal(services[0], null)
    assert.match(JSON.stringify(services[1]), /foo/)
  })
  it('returns 400 on a regular key uniqueness error', async () => {
    const config =
      '_format_version: "1.1"\nconsumers:\n- username: foo\n  custom_id: conflict\n- username: bar\n  custom_id: conflict\n'
    const res = await a.req('POST', '/config', { config })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 14)
    assert.match(JSON.stringify(res.body.fields), /custom_id set to 'conflict' already declared/)
  })
  it('returns 400 when given no input', async () => {
    const res = await a.req('POST', '/config')
    assert.equal(res.status, 400)
    assert.deepEqual(res.body, { message: 'expected a declarative configuration' })
  })
})

describe('Admin API #off /config GET', () => {
  it('returns back the configuration', async () => {
    const res = await a.req('POST', '/config', {
      _format_version: '1.1',
      consumers: [{ username: 'bobo', id: 'd885e256-1abe-5e24-80b6-8f68fe59ea8e', created_at: 1566863706 }],
    })
    assert.equal(res.status, 201)
    const got = await a.req('GET', '/config')
    assert.equal(got.status, 200)
    const config = parse(got.body.config as string) as Record<string, unknown>
    const consumers = config.consumers as Array<Record<string, unknown>>
    assert.deepEqual(config, {
      _format_version: '3.0',
      _transform: false,
      consumers: [
        {
          id: 'd885e256-1abe-5e24-80b6-8f68fe59ea8e',
          created_at: 1566863706,
          updated_at: consumers[0]?.updated_at,
          username: 'bobo',
          custom_id: null,
          tags: null,
        },
      ],
    })
  })
})

describe('Admin API #off /config [flattened errors]', () => {
  it('flattens nested, non-entity field errors', async () => {
    const upstream = {
      name: 'bad',
      tags: ['upstream-01'],
      hash_on: 'ip',
      healthchecks: { active: { type: 'http', http_path: '/', timeout: 1, concurrency: -1 } },
      host_header: 123,
    }
    const res = await a.req('POST', '/config?flatten_errors=1', {
      _format_version: '3.0',
      upstreams: [upstream],
    })
    assert.equal(res.status, 400)
    const flat = res.body.flattened_errors as Array<Record<string, unknown>>
    assert.equal(flat.length, 1)
    assert.equal(flat[0]?.entity_type, 'upstream')
    assert.equal(flat[0]?.entity_name, 'bad')
    assert.deepEqual(flat[0]?.entity_tags, ['upstream-01'])
    assert.deepEqual(flat[0]?.entity, upstream)
    const errors = flat[0]?.errors as Array<{ field: string; message: string; type: string }>
    assert.deepEqual(errors.map((e) => [e.field, e.type]).sort(), [
      ['healthchecks.active.concurrency', 'field'],
      ['host_header', 'field'],
    ])
    assert.equal(errors.find((e) => e.field === 'host_header')?.message, 'expected a string')
  })
  it('preserves IDs from the input', async () => {
    const id = '0175e0e8-3de9-56b4-96f1-b12dcb4b6691'
    const res = await a.req('POST', '/config?flatten_errors=1', {
      _format_version: '3.0',
      services: [{ id, name: 'nope', host: 'svc.test', port: 1234, protocol: 'nope' }],
    })
    const flat = res.body.flattened_errors as Array<Record<string, unknown>>
    assert.equal(flat[0]?.entity_id, id)
    assert.equal(flat[0]?.entity_name, 'nope')
  })
})

describe('Admin API #off declarative formats', () => {
  it('migrates regex-looking paths of a 1.1 file (route_path migration)', async () => {
    const config =
      '_format_version: "1.1"\nservices:\n- name: s\n  host: s.test\n  routes:\n  - name: r\n    paths: ["/v1/(.*)", /plain]\n'
    assert.equal((await a.req('POST', '/config', { config })).status, 201)
    assert.deepEqual((await a.req('GET', '/routes/r')).body.paths, ['~/v1/(.*)', '/plain'])
  })
})
