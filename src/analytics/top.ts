/**
 * Space-Saving (Metwally et al., 2005): the heavy hitters of a stream in at most `capacity`
 * counters. An item not tracked replaces the smallest counter and inherits its count, so a
 * count is never under its true value and over it by at most the replaced minimum; every item
 * more frequent than n/capacity is kept. Memory stays bounded whatever the stream (paths are
 * client-chosen, so their number is not).
 */
export class SpaceSaving {
  readonly counts = new Map<string, number>()

  constructor(readonly capacity: number) {}

  add(item: string, by = 1): void {
    const c = this.counts
    const n = c.get(item)
    if (n !== undefined) {
      c.set(item, n + by)
      return
    }
    if (c.size < this.capacity) {
      c.set(item, by)
      return
    }
    // full: the smallest counter makes room (a scan of `capacity` entries, only on a new item)
    let minItem = ''
    let min = Number.POSITIVE_INFINITY
    for (const [k, v] of c) {
      if (v < min) {
        min = v
        minItem = k
      }
    }
    c.delete(minItem)
    c.set(item, min + by)
  }
}

/** The `limit` largest entries of a count map, largest first (ties by name, for stable output). */
export function largest(counts: ReadonlyMap<string, number>, limit: number): Array<[string, number]> {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit)
}
