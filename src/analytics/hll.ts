/**
 * HyperLogLog with 2^14 registers (Flajolet et al.; the precision Redis uses, ~0.8 % standard
 * error), for the memory-only mode: with Redis configured, unique clients go to Redis's own
 * PFADD/PFCOUNT instead. 16 KiB per counter; two counters merge by taking each register's max.
 */

const P = 14
const M = 1 << P
const ALPHA = 0.7213 / (1 + 1.079 / M)

/** MurmurHash3 (x86, 32-bit) of a string's UTF-16 code units: well mixed, cheap, no allocation. */
export function murmur3(text: string, seed = 0x9747b28c): number {
  let h = seed >>> 0
  const len = text.length
  let i = 0
  for (; i + 1 < len; i += 2) {
    let k = (text.charCodeAt(i) & 0xffff) | ((text.charCodeAt(i + 1) & 0xffff) << 16)
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  if (i < len) {
    let k = text.charCodeAt(i) & 0xffff
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
  }
  h ^= len * 2
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export class HyperLogLog {
  readonly registers = new Uint8Array(M)

  add(item: string): void {
    const h = murmur3(item)
    const index = h >>> (32 - P)
    // rank of the first set bit in the remaining 18 bits (1-based), 19 when all are zero
    const rest = (h << P) | (1 << (P - 1))
    const rank = Math.clz32(rest) + 1
    if (rank > this.registers[index]!) this.registers[index] = rank
  }

  merge(other: HyperLogLog): void {
    const r = this.registers
    const o = other.registers
    for (let i = 0; i < M; i++) if (o[i]! > r[i]!) r[i] = o[i]!
  }

  /** Estimated number of distinct items added (linear counting while registers are mostly empty). */
  count(): number {
    let sum = 0
    let zeros = 0
    for (let i = 0; i < M; i++) {
      const v = this.registers[i]!
      sum += 2 ** -v
      if (v === 0) zeros++
    }
    const estimate = (ALPHA * M * M) / sum
    if (estimate <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros))
    return Math.round(estimate)
  }
}
