import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isoNow } from './access-log.js'

test('isoNow renders what toISOString does, across seconds, back and forth', () => {
  const base = Date.UTC(2026, 11, 31, 23, 59, 59, 0)
  for (const t of [
    base,
    base + 1,
    base + 999,
    base + 1000,
    base + 1001,
    base - 1,
    base + 12_345_678,
    0,
    999,
  ]) {
    assert.equal(isoNow(t), new Date(t).toISOString(), String(t))
  }
})
