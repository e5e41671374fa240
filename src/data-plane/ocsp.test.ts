import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toPem } from './ocsp.js'

test('toPem: 64 characters a line and no empty line, whatever the length (a DER of 48·k bytes fills its last line)', () => {
  for (const n of [47, 48, 49, 96, 1200, 1248]) {
    const der = Buffer.alloc(n, 7)
    const lines = toPem(der).trimEnd().split('\n')
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----')
    assert.equal(lines.at(-1), '-----END CERTIFICATE-----')
    const body = lines.slice(1, -1)
    assert.ok(
      body.every((l) => l.length > 0 && l.length <= 64),
      `${n} bytes: ${body.map((l) => l.length)}`,
    )
    assert.deepEqual(Buffer.from(body.join(''), 'base64'), der)
  }
})
