/**
 * Memory of the local policy: fills the bounded table with distinct client keys (IPv4-like,
 * as `limit_by: ip` makes them) and prints the bytes per key (heap + array buffers, after GC),
 * then shows the cap holding and the sweeper emptying the table once the windows have passed.
 *
 *   node --expose-gc dist/scripts/rate-limit-memory.js [keys=1000000]
 */
import { type Algorithm, FIXED, type Limit, SLIDING, TOKEN } from '../src/plugins/rate-limiting/algorithms.js'
import { LocalCounters } from '../src/plugins/rate-limiting/local-store.js'

const [KEYS = 1_000_000] = process.argv.slice(2).map(Number)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error('run with node --expose-gc')
  process.exit(1)
}
const used = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}
const ip = (i: number) => `i:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
const minute: Limit = { code: 2, size: 60_000, limit: 100, capacity: 100, interval: 600 }
const hour: Limit = { code: 3, size: 3_600_000, limit: 1000, capacity: 1000, interval: 3600 }

function measure(name: string, algo: Algorithm, limits: Limit[]): void {
  const base = used()
  const store = new LocalCounters(algo, limits.length, KEYS)
  const out = new Float64Array(2 + 2 * limits.length)
  const now = Date.UTC(2024, 0, 1, 12, 0, 30)
  for (let i = 0; i < KEYS; i++) store.consume(ip(i), limits, now, out)
  const bytes = used() - base
  console.log(
    `${name.padEnd(34)} ${store.size.toLocaleString('en').padStart(10)} keys  ${(bytes / 2 ** 20).toFixed(1).padStart(6)} MiB  ${(bytes / store.size).toFixed(0).padStart(4)} B/key  (table ${(store.tableBytes / 2 ** 20).toFixed(1)} MiB)`,
  )
  if (algo === FIXED && limits.length === 1) {
    // beyond the cap: half as many keys again, the table stays at the cap
    for (let i = KEYS; i < KEYS * 1.5; i++) store.consume(ip(i), limits, now, out)
    console.log(
      `  +${(KEYS / 2).toLocaleString('en')} more keys: ${store.size.toLocaleString('en')} kept, ${store.evicted.toLocaleString('en')} oldest dropped, ${((used() - base) / 2 ** 20).toFixed(1)} MiB`,
    )
    // after the window: the sweeper (5,000 keys per 250 ms tick) empties the table
    let ticks = 0
    let longest = 0
    let total = 0
    while (store.size > 0) {
      const t = performance.now()
      store.sweep(now + 60_000, 5_000)
      const ms = performance.now() - t
      longest = Math.max(longest, ms)
      total += ms
      ticks++
    }
    console.log(
      `  window over: swept to ${store.size} keys in ${ticks} ticks of 5,000 keys (${total.toFixed(0)} ms in all, longest tick ${longest.toFixed(1)} ms)`,
    )
  }
  store.clear()
}

console.log(
  `local policy table, ${KEYS.toLocaleString('en')} distinct IPv4 clients (cap = ${KEYS.toLocaleString('en')})\n`,
)
measure('fixed-window, 1 window', FIXED, [minute])
measure('fixed-window, minute + hour', FIXED, [minute, hour])
measure('sliding-window, 1 window', SLIDING, [minute])
measure('token-bucket, 1 window', TOKEN, [minute])
