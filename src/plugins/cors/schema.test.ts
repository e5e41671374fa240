import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateDocument } from '../../config/index.js'
import { createRegistry } from '../index.js'
import { schema } from './schema.js'

test("defaults are Kong's", () => {
  assert.deepEqual(schema.parse({}), {
    methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'],
    credentials: false,
    private_network: false,
    preflight_continue: false,
    allow_origin_absent: true,
  })
})

test('bad origins, methods and unknown fields are refused with their path; cors is not per consumer', () => {
  const { issues } = validateDocument(
    {
      _format_version: '3.0',
      consumers: [{ username: 'ann' }],
      plugins: [
        {
          name: 'cors',
          config: { origins: ['https://ok.example.com', '(unclosed'], methods: ['GET', 'FETCH'] },
        },
        { name: 'cors', config: { origin: 'https://old-field.example.com' } },
        { name: 'cors', consumer: 'ann' },
      ],
    },
    createRegistry(),
  )
  const paths = issues.map((i) => `${i.path}: ${i.message}`).join('\n')
  assert.match(paths, /plugins\[0\]\.config\.origins\[1\]: '\(unclosed' is not a valid regex/)
  assert.match(paths, /plugins\[0\]\.config\.methods\[1\]/)
  assert.match(paths, /plugins\[1\]\.config\.origin/)
  assert.match(paths, /plugins\[2\]/)
})
