import type { BalancedTarget } from './target.js'
import type { PickInput, Target } from './types.js'

/** The targets an algorithm chooses from, and the one rule for which of them may take a request. */
export interface Pool {
  readonly targets: readonly BalancedTarget[]
  /** weight > 0, not excluded, and healthy (or in a passive trial, or checks off) */
  pickable(target: BalancedTarget, exclude: Target | undefined): boolean
}

/** One load-balancing algorithm over a {@link Pool}. */
export interface Picker {
  pick(input: PickInput, exclude: Target | undefined): BalancedTarget | undefined
}
