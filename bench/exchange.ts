import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'

/** What a check sees of a response; `body` is decoded (UTF-8) on first use. */
export interface CheckResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/**
 * A named predicate on each response (k6's `check`); throwing counts as a fail.
 *
 * @example
 *   const checks: Record<string, CheckFn> = {
 *     'status is 200': (r) => r.status === 200,
 *     'served from cache': (r) => r.headers['x-cache'] === 'HIT',
 *   }
 */
export type CheckFn = (res: CheckResponse) => boolean

/** The side of the run an exchange reports to. */
export interface ExchangeOwner {
  received(bytes: number): void
  finish(ex: Exchange, err: Error | null): void
}

/**
 * One request in flight, as an undici dispatch handler. Using `dispatch` instead of `request`
 * skips the body stream and its promises: the response bytes are counted and dropped as they
 * arrive (kept only when a check may read them), so the generator spends its CPU on sending.
 * This object is the only allocation per request on our side.
 *
 * @example
 *   dispatcher.dispatch(prepared, new Exchange(owner, vu, scheduledAt, performance.now(), next, false))
 */
export class Exchange implements Dispatcher.DispatchHandler, CheckResponse {
  status = 0
  headers: IncomingHttpHeaders = {}
  /** set once undici has a connection for the request; used to cut it off */
  controller: Dispatcher.DispatchController | null = null
  private readonly chunks: Buffer[] | null
  private text: string | null = null

  constructor(
    private readonly owner: ExchangeOwner,
    readonly vu: number,
    /** when the request should have started (performance.now() ms): latency counts from here */
    readonly scheduled: number,
    /** when it was handed to undici: service time counts from here */
    readonly sent: number,
    /** what the VU does next, called once the request has finished either way */
    readonly after: (vu: number) => void,
    keepBody: boolean,
  ) {
    this.chunks = keepBody ? [] : null
  }

  get body(): string {
    this.text ??= this.chunks ? Buffer.concat(this.chunks).toString('utf8') : ''
    return this.text
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    // informational (1xx) heads are not the response: the final one overwrites them
    this.status = status
    this.headers = headers
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.owner.received(chunk.length)
    this.chunks?.push(chunk)
  }

  onResponseEnd(): void {
    this.owner.finish(this, null)
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.owner.finish(this, err)
  }
}

/**
 * A short, stable name for a failure, for the error counts.
 *
 * @example
 *   errorCode(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })) // 'ECONNREFUSED'
 *   errorCode(new TypeError('bad'))                                          // 'TypeError'
 */
export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null
  if (typeof e?.code === 'string') return e.code
  return typeof e?.name === 'string' ? e.name : 'Error'
}
