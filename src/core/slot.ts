/**
 * A typed place on the request context that one plugin declares for its own per-request facts
 * (an outcome, a verdict, a record kept from access to log). Core and the data plane know
 * nothing of what a slot holds; whoever holds the slot object reads it.
 *
 * Slots are declared once, at module load, and numbered then: a read is `slots[index]`, an
 * array index fixed before the first request, with no Map or string lookup per request.
 *
 * @example
 *   // plugins/<name>/state.ts
 *   export const VERDICT = slot<string>('my-plugin.verdict', '')
 *   // in a phase
 *   ctx.set(VERDICT, 'allowed')
 *   ctx.get(VERDICT)   // 'allowed'; '' on a request the plugin never touched
 */
export class Slot<T> {
  /** position in {@link RequestContext}'s slot array, fixed at declaration */
  readonly index: number
  constructor(
    /** for diagnostics only: `plugin.fact` */
    readonly name: string,
    /** what {@link RequestContext.get} returns before anything is set */
    readonly initial: T,
  ) {
    this.index = declared++
  }
}

let declared = 0

/** Declares a slot (at module load). `initial` is returned until a request sets the slot. */
export function slot<T>(name: string, initial: T): Slot<T> {
  return new Slot(name, initial)
}

/** How many slots exist: the length a request's slot array is given when first written. */
export function slotCount(): number {
  return declared
}
