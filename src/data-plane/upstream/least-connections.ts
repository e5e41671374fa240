import type { Picker, Pool } from './picker.js'
import type { BalancedTarget } from './target.js'
import type { PickInput, Target } from './types.js'

/**
 * Fewest requests in flight relative to weight. Like Kong, the score is `(active + 1) / weight`,
 * so among idle targets the heavier one still wins; equal scores go round-robin by starting
 * each scan one past the previous pick. Scores are compared by cross-multiplying, no division.
 *
 * @example
 *   const lc = new LeastConnectionsPicker(pool)
 *   const target = lc.pick({ hashKey: undefined }, undefined)
 */
export class LeastConnectionsPicker implements Picker {
  private cursor = 0

  constructor(private readonly pool: Pool) {}

  pick(_input: PickInput, exclude: Target | undefined): BalancedTarget | undefined {
    const { targets } = this.pool
    const n = targets.length
    let best: BalancedTarget | undefined
    for (let k = 0; k < n; k++) {
      const t = targets[(this.cursor + k) % n]
      if (!this.pool.pickable(t, exclude)) continue
      if (best === undefined || (t.active + 1) * best.weight < (best.active + 1) * t.weight) best = t
    }
    if (best !== undefined) this.cursor = (best.index + 1) % n
    return best
  }
}
