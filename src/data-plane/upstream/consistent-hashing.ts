import type { Picker, Pool } from './picker.js'
import { RoundRobinPicker } from './round-robin.js'
import type { BalancedTarget } from './target.js'
import type { PickInput, Target } from './types.js'

/**
 * Ring points given to a target of average weight. The count depends only on a target's weight
 * relative to the average, not on how many targets there are, so adding one target adds its
 * points and leaves everyone else's where they were: only the keys it takes over move.
 */
export const POINTS_PER_TARGET = 160

/**
 * 32-bit FNV-1a over UTF-16 code units, finished with murmur3's avalanche step so that keys
 * differing in one trailing character land far apart on the ring. No allocation.
 *
 * @example
 *   hash32('10.0.0.7') // → an unsigned 32-bit integer, the same on every node
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Ketama-style consistent hashing: each target owns points on a 32-bit ring (∝ weight, placed
 * by hashing `address#n`, so every node builds the same ring whatever the config order), and a
 * key goes to the owner of the first point at or after its hash. An unavailable or excluded
 * owner is skipped by walking on, so its keys spread over the others and come back when it
 * does. Without a key (nor a fallback key) it picks round-robin.
 *
 * @example
 *   const ch = new ConsistentHashingPicker(pool)
 *   ch.pick({ hashKey: clientIp }, undefined)
 */
export class ConsistentHashingPicker implements Picker {
  private readonly points: Uint32Array
  private readonly owners: Int32Array
  private readonly roundRobin: RoundRobinPicker

  constructor(private readonly pool: Pool) {
    this.roundRobin = new RoundRobinPicker(pool)
    const weighted = pool.targets.filter((t) => t.weight > 0)
    const average = weighted.reduce((sum, t) => sum + t.weight, 0) / Math.max(1, weighted.length)
    const ring: Array<{ point: number; target: BalancedTarget }> = []
    for (const target of weighted) {
      const count = Math.max(1, Math.round((POINTS_PER_TARGET * target.weight) / average))
      for (let n = 0; n < count; n++) ring.push({ point: hash32(`${target.address}#${n}`), target })
    }
    ring.sort((a, b) =>
      a.point !== b.point ? a.point - b.point : a.target.address < b.target.address ? -1 : 1,
    )
    this.points = Uint32Array.from(ring, (e) => e.point)
    this.owners = Int32Array.from(ring, (e) => e.target.index)
  }

  /** Number of points on the ring (for tests and diagnostics). */
  get size(): number {
    return this.points.length
  }

  pick(input: PickInput, exclude: Target | undefined): BalancedTarget | undefined {
    const key = input.hashKey ?? input.fallbackKey
    if (key === undefined) return this.roundRobin.pick(input, exclude)
    const { targets } = this.pool
    let any = false
    for (let i = 0; i < targets.length && !any; i++) any = this.pool.pickable(targets[i], exclude)
    if (!any) return undefined

    const points = this.points
    const n = points.length
    const h = hash32(key)
    let lo = 0
    let hi = n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (points[mid] < h) lo = mid + 1
      else hi = mid
    }
    for (let k = 0; k < n; k++) {
      const t = targets[this.owners[(lo + k) % n]]
      if (this.pool.pickable(t, exclude)) return t
    }
    return undefined
  }
}
