import type { Picker, Pool } from './picker.js'
import type { BalancedTarget } from './target.js'
import type { PickInput, Target } from './types.js'

/**
 * nginx's smooth weighted round-robin: every pick adds each target's weight to its running
 * score, takes the highest, and charges it the total. Weights 5:1:1 give `a a b a c a a` rather
 * than `a a a a a b c`, so a heavy target never takes a long burst in a row. Targets that are
 * not pickable are skipped without touching their score.
 *
 * @example
 *   const rr = new RoundRobinPicker(pool)
 *   const target = rr.pick({ hashKey: undefined }, undefined)
 */
export class RoundRobinPicker implements Picker {
  private readonly score: Float64Array

  constructor(private readonly pool: Pool) {
    this.score = new Float64Array(pool.targets.length)
  }

  pick(_input: PickInput, exclude: Target | undefined): BalancedTarget | undefined {
    const { targets } = this.pool
    const score = this.score
    let total = 0
    let best = -1
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]
      if (!this.pool.pickable(t, exclude)) continue
      score[i] += t.weight
      total += t.weight
      if (best < 0 || score[i] > score[best]) best = i
    }
    if (best < 0) return undefined
    score[best] -= total
    return targets[best]
  }
}
