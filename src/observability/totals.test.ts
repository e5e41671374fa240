import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RequestContext } from '../core/context.js'
import { slot } from '../core/slot.js'
import { NodeTotals, Outcome } from './totals.js'

test('node totals by status class, with bytes and the request count', () => {
  const t = new NodeTotals()
  for (const s of [101, 200, 204, 301, 404, 499, 503, 0, 600]) t.count(s, 1, 2)
  assert.deepEqual([...t.classes], [2, 1, 2, 1, 2, 1])
  assert.equal(t.ingress, 9)
  assert.equal(t.egress, 18)
  assert.equal(t.requests, 9)
})

test('an outcome counts the values its slot holds and skips requests that left it empty', () => {
  const s = slot<string>('test.outcome', '')
  const o = new Outcome(s, { metric: 'm_total', help: 'h', label: 'l', logField: 'the field' })
  const fake = { headers: {}, method: 'GET', socket: {} } as never
  const ctxs = ['Hit', 'Miss', 'Hit', ''].map((v, i) => {
    const c = new RequestContext(fake, {} as never, String(i), 0)
    if (v !== '') c.set(s, v)
    return c
  })
  for (const c of ctxs) o.record(c)
  assert.deepEqual(
    [...o.counts],
    [
      ['Hit', 2],
      ['Miss', 1],
    ],
  )
  assert.equal(o.logPrefix, ',"the field":')
})
