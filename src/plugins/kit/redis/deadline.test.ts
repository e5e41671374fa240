import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { DeadlineQueue, type Pending } from './deadline.js'

/** waits until `ok()` holds (at most 5 s): a busy machine may run the sweep well after its time */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await sleep(10)
}

const pending = (at: number, log: number[], id: number): Pending => ({
  at,
  done: false,
  expire() {
    log.push(id)
  },
})

test('calls expire in deadline order; settled ones never expire; one timer serves them all', async () => {
  const q = new DeadlineQueue()
  const log: number[] = []
  const now = performance.now()
  const items = [0, 1, 2, 3, 4].map((i) => pending(now + 20 + i * 5, log, i))
  for (const p of items) q.add(p)
  items[1]!.done = true
  items[3]!.done = true
  await until(() => log.length >= 3)
  await sleep(20)
  assert.deepEqual(log, [0, 2, 4])
  assert.equal(q.pending, 0)
  // the queue starts again when new calls come
  q.add(pending(performance.now() + 5, log, 9))
  await until(() => log.length >= 4)
  assert.deepEqual(log, [0, 2, 4, 9])
})

test('a reply already received when the timer fires wins over the deadline', async () => {
  const q = new DeadlineQueue()
  const log: number[] = []
  const p = pending(performance.now() + 5, log, 1)
  q.add(p)
  // block the event loop past the deadline, then settle from an I/O-like callback before the
  // deferred expiry runs (setImmediate runs after the timer phase)
  const until = performance.now() + 20
  while (performance.now() < until) {}
  setImmediate(() => {
    p.done = true
  })
  await sleep(30)
  assert.deepEqual(log, [])
})
