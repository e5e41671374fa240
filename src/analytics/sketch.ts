/**
 * A DDSketch-style latency sketch (Masson et al., VLDB 2019): values fall into logarithmic bins
 * of ratio γ = (1+α)/(1−α), so any quantile read back is within α = 1 % of a value of the
 * stream, whatever the distribution. Two sketches merge by adding their bin counts, which is
 * what makes per-node, per-interval sketches summable across nodes and minutes (a Redis hash
 * of `bin → count` merges with HINCRBY). The bins live in a plain `Map<index, count>`: a
 * request costs one `Math.log` and one map update.
 */

/** relative accuracy of every quantile read back */
export const RELATIVE_ACCURACY = 0.01
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
const LN_GAMMA = Math.log(GAMMA)
/** values below this (ms) share the lowest bin: a microsecond is below anything measured */
const MIN_VALUE = 0.001
const MIN_INDEX = Math.ceil(Math.log(MIN_VALUE) / LN_GAMMA)

/** The bin a value (ms) falls into. */
export function binOf(value: number): number {
  if (!(value > MIN_VALUE)) return MIN_INDEX
  return Math.ceil(Math.log(value) / LN_GAMMA)
}

/** The value a bin stands for: within α of every value that fell into it. */
export function binValue(bin: number): number {
  return (2 * GAMMA ** bin) / (GAMMA + 1)
}

/** Adds one value to `bins`. */
export function addValue(bins: Map<number, number>, value: number): void {
  const b = binOf(value)
  bins.set(b, (bins.get(b) ?? 0) + 1)
}

/** Adds every bin of `from` to `into`. */
export function mergeBins(into: Map<number, number>, from: ReadonlyMap<number, number>): void {
  for (const [b, n] of from) into.set(b, (into.get(b) ?? 0) + n)
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of the values counted in `bins`: the value of rank ⌊q·(n−1)⌋
 * in the sorted stream (nearest rank, as DDSketch reads it); NaN when empty.
 *
 * @example
 *   const bins = new Map(); for (const v of [1, 2, 3, 100]) addValue(bins, v)
 *   quantile(bins, 0.5) // ≈ 2 (within 1 %)
 */
export function quantile(bins: ReadonlyMap<number, number>, q: number): number {
  let total = 0
  for (const n of bins.values()) total += n
  if (total === 0) return Number.NaN
  const rank = Math.floor(q * (total - 1))
  const sorted = [...bins.keys()].sort((a, b) => a - b)
  let seen = 0
  for (const b of sorted) {
    seen += bins.get(b)!
    if (seen > rank) return binValue(b)
  }
  return binValue(sorted[sorted.length - 1]!)
}
