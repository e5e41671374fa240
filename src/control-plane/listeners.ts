/**
 * The watchers of a config store or a service registry backend: `add` (their `watch`), `emit`
 * (a change), `clear` (their `close`). One list for every backend rather than the same three
 * methods in each.
 *
 * @example
 *   const changed = new Listeners<[StoreHead | null]>()
 *   changed.add((head) => console.log(head))
 *   changed.emit({ version: 2, hash: 'ab12' })
 */
export class Listeners<A extends unknown[]> {
  #list: Array<(...args: A) => void> = []

  add(listener: (...args: A) => void): void {
    this.#list.push(listener)
  }

  emit(...args: A): void {
    for (const l of this.#list) l(...args)
  }

  /** Forgets them all; an emit under way still reaches the ones it started with. */
  clear(): void {
    this.#list = []
  }
}
