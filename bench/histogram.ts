/**
 * A log-linear latency histogram in the style of HdrHistogram with two significant digits.
 *
 * Values are non-negative integers in microseconds. Below 256 µs every value has its own bucket
 * (exact to the microsecond); above, each power of two is split into 128 equal buckets, so a
 * bucket is never wider than 1/128 of the values it holds and the reported midpoint is within
 * 0.4 % of any value in it. From 1 µs to 60 s that is about 2,500 buckets (20 kB), recorded in
 * O(1) with no allocation per sample: the point is to measure millions of requests without the
 * recorder itself disturbing the event loop it is timing.
 *
 * min, max, count and sum are kept exactly beside the buckets, so `min`, `max` and `mean` carry
 * no bucket error at all; percentiles are clamped into [min, max].
 */

/** sub-bucket bits: 2^7 = 128 buckets per power of two above the linear range */
const SUB_BITS = 7
const HALF = 1 << SUB_BITS
/** values below this are counted exactly, one bucket per microsecond */
const LINEAR = HALF << 1

/** 60 s in microseconds: the default highest trackable value */
export const DEFAULT_HIGHEST_US = 60_000_000

/** Summary figures of a histogram, in the unit chosen by {@link Histogram.stats}. */
export interface LatencyStats {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
}

function bucketOf(v: number): number {
  if (v < LINEAR) return v
  // floor(log2 v) is at least 8 here; the top SUB_BITS+1 bits select the bucket in that octave
  const octave = 31 - Math.clz32(v)
  return LINEAR + (octave - SUB_BITS - 1) * HALF + ((v >>> (octave - SUB_BITS)) - HALF)
}

/** The value a bucket stands for: itself in the linear range, else the middle of its span. */
function midpointOf(bucket: number): number {
  if (bucket < LINEAR) return bucket
  const k = bucket - LINEAR
  const width = 2 ** (Math.floor(k / HALF) + 1)
  const low = ((k % HALF) + HALF) * width
  return low + (width - 1) / 2
}

/**
 * Records latencies and answers percentiles.
 *
 * @example
 *   const h = new Histogram()
 *   h.record(1250)            // 1.25 ms, in microseconds
 *   h.percentile(95)          // ≈ 1250
 *   h.stats(1000).p95         // the same figure in milliseconds
 */
export class Histogram {
  readonly highest: number
  private readonly counts: Float64Array
  private n = 0
  private total = 0
  private low = Number.POSITIVE_INFINITY
  private high = 0

  /** @param highest largest value kept apart in buckets (µs); larger ones share the top bucket */
  constructor(highest = DEFAULT_HIGHEST_US) {
    if (!Number.isInteger(highest) || highest < LINEAR || highest > 0x7fffffff) {
      throw new RangeError(`histogram highest value must be an integer in [${LINEAR}, 2^31): ${highest}`)
    }
    this.highest = highest
    this.counts = new Float64Array(bucketOf(highest) + 1)
  }

  /** values recorded */
  get count(): number {
    return this.n
  }

  /** exact sum of the recorded (rounded) values */
  get sum(): number {
    return this.total
  }

  /** exact smallest value; +Infinity when empty */
  get min(): number {
    return this.low
  }

  /** exact largest value, even above `highest`; 0 when empty */
  get max(): number {
    return this.high
  }

  /** Adds one value in microseconds; fractions are rounded, negatives and NaN count as 0. */
  record(us: number): void {
    const v = us > 0 ? Math.round(us) : 0
    this.counts[bucketOf(Math.min(v, this.highest))]! += 1
    this.n += 1
    this.total += v
    if (v < this.low) this.low = v
    if (v > this.high) this.high = v
  }

  /** Empties the histogram in place (no allocation), for per-second windows. */
  reset(): void {
    if (this.n === 0) return
    this.counts.fill(0)
    this.n = 0
    this.total = 0
    this.low = Number.POSITIVE_INFINITY
    this.high = 0
  }

  /** Adds every value of `other` (same `highest`) into this one. */
  add(other: Histogram): void {
    if (other.highest !== this.highest) throw new RangeError('cannot add histograms of different ranges')
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!
    this.n += other.n
    this.total += other.total
    if (other.low < this.low) this.low = other.low
    if (other.high > this.high) this.high = other.high
  }

  /** Mean in microseconds, NaN when empty. */
  mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count
  }

  /**
   * The value at percentile `p` (0–100) by nearest rank, in microseconds; NaN when empty.
   * O(buckets): meant for reports and progress, not for the per-request path.
   */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN
    if (p <= 0) return this.min
    if (p >= 100) return this.max
    const rank = Math.max(1, Math.ceil((p / 100) * this.count))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, midpointOf(i)))
    }
    return this.max
  }

  /** min/mean/percentiles/max divided by `scale` (1000 turns microseconds into milliseconds). */
  stats(scale = 1): LatencyStats {
    const f = (us: number) => us / scale
    const empty = this.count === 0
    return {
      count: this.count,
      min: empty ? Number.NaN : f(this.min),
      mean: f(this.mean()),
      p50: f(this.percentile(50)),
      p90: f(this.percentile(90)),
      p95: f(this.percentile(95)),
      p99: f(this.percentile(99)),
      max: empty ? Number.NaN : f(this.max),
    }
  }
}
