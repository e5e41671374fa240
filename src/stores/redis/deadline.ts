/** A call racing its deadline: whichever of `settle` or `expire` comes first wins. */
export interface Pending {
  /** performance.now() after which the call counts as failed */
  readonly at: number
  done: boolean
  expire(): void
}

/**
 * Deadlines of in-flight store calls with ONE timer, instead of a setTimeout per request: every
 * call of a queue has the same budget, so arrival order is deadline order and a FIFO is enough.
 * The timer is armed only while calls are pending.
 *
 * When the timer fires, expiry waits for `setImmediate`: the poll phase in between delivers
 * any reply that already sits in the socket, so a blocked event loop (GC, a burst of work)
 * does not turn an answered call into a timeout.
 *
 * @example
 *   const q = new DeadlineQueue()
 *   q.add({ at: performance.now() + 50, done: false, expire() { this.done = true; failOpen() } })
 */
export class DeadlineQueue {
  #items: Pending[] = []
  #head = 0
  #timer: NodeJS.Timeout | null = null

  add(p: Pending): void {
    this.#items.push(p)
    if (this.#timer === null) this.#arm(p.at)
  }

  get pending(): number {
    return this.#items.length - this.#head
  }

  #arm(at: number): void {
    // +1: setTimeout may fire a fraction of a millisecond early
    this.#timer = setTimeout(this.#fire, Math.max(0, at - performance.now()) + 1)
    this.#timer.unref()
  }

  readonly #fire = (): void => {
    setImmediate(this.#sweep)
  }

  readonly #sweep = (): void => {
    this.#timer = null
    const now = performance.now()
    const items = this.#items
    let h = this.#head
    while (h < items.length) {
      const p = items[h]!
      if (!p.done) {
        if (p.at > now) break
        p.done = true
        p.expire()
      }
      h++
    }
    // compact once the dead prefix dominates, so the array does not grow without bound
    if (h === items.length) {
      items.length = 0
      h = 0
    } else if (h > 1024 && h * 2 > items.length) {
      this.#items = items.slice(h)
      // the old array may sit in the old generation: emptied, it keeps no call (and no request
      // behind it) alive through young-generation collections
      items.length = 0
      h = 0
    }
    this.#head = h
    // skip entries already settled, then wait for the first live one
    while (this.#head < this.#items.length && this.#items[this.#head]!.done) this.#head++
    if (this.#head < this.#items.length) this.#arm(this.#items[this.#head]!.at)
    else {
      this.#items.length = 0
      this.#head = 0
    }
  }

  /** drop every pending call without expiring it (the owner is closing) */
  clear(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#items = []
    this.#head = 0
  }
}
