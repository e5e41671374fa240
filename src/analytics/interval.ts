import type { EntityInfo, RequestContext } from '../core/context.js'
import type { RequestFacts } from '../observability/facts.js'
import { rateLimited } from './outcome.js'
import { addValue } from './sketch.js'
import { SpaceSaving } from './top.js'

/** What one route × consumer pair did during an interval. */
export class Cell {
  n = 0
  /** responses by status class: index 1…5 for 1xx…5xx, 0 for anything else (no response) */
  readonly classes = [0, 0, 0, 0, 0, 0]
  bytesIn = 0
  bytesOut = 0
  rateLimited = 0
  cacheHits = 0
  /** latency sketch bins (see sketch.ts) */
  readonly bins = new Map<number, number>()

  constructor(
    readonly route: EntityInfo | null,
    readonly service: EntityInfo | null,
    readonly consumer: string,
  ) {}
}

/** consumer name given to requests past the interval's cell bound */
export const OTHER = '(other)'

/**
 * One node's requests since the last flush. A request touches one cell (found by the route
 * object, then the consumer: two map reads, no string built), its counters and sketch, the
 * path heavy-hitters and the client set; everything per entity (service, route, consumer,
 * node total) is rolled up at flush time, off the request path.
 */
export class Interval {
  readonly byRoute = new Map<EntityInfo | null, Map<string, Cell>>()
  cells = 0
  readonly paths: SpaceSaving
  readonly clients = new Set<string>()

  constructor(
    /** start of the fine bucket this interval belongs to (ms since the epoch) */
    readonly bucket: number,
    readonly maxCells: number,
    topPaths: number,
    /** the cache-hit test built from what plugins declared (see outcome.ts) */
    readonly cacheHit: (ctx: RequestContext) => boolean,
  ) {
    this.paths = new SpaceSaving(topPaths)
  }

  record(ctx: RequestContext, f: RequestFacts): void {
    const route = ctx.route
    let byConsumer = this.byRoute.get(route)
    if (byConsumer === undefined) this.byRoute.set(route, (byConsumer = new Map()))
    let consumer = f.consumer
    let cell = byConsumer.get(consumer)
    if (cell === undefined) {
      // bounded: past maxCells, new consumers of this interval share one cell
      if (this.cells >= this.maxCells) consumer = OTHER
      cell = byConsumer.get(consumer)
      if (cell === undefined) {
        byConsumer.set(consumer, (cell = new Cell(route, ctx.service, consumer)))
        this.cells++
      }
    }
    cell.n++
    const cls = (ctx.status / 100) | 0
    cell.classes[cls >= 1 && cls <= 5 ? cls : 0]!++
    cell.bytesIn += f.bytesIn
    cell.bytesOut += f.bytesOut
    addValue(cell.bins, f.requestMs)
    if (rateLimited(ctx)) cell.rateLimited++
    if (this.cacheHit(ctx)) cell.cacheHits++
    this.paths.add(ctx.path)
    this.clients.add(ctx.clientIp)
  }

  get empty(): boolean {
    return this.cells === 0
  }
}
