import { EventEmitter } from 'node:events'

/**
 * Where the response of a background continuation goes (see `BackgroundContinuation`): the part
 * of `ServerResponse` the data plane uses, every byte dropped as it comes, and `'close'` once,
 * after the response ended or was cut short, as a real response closes.
 */
export class DiscardedResponse extends EventEmitter {
  statusCode = 200
  headersSent = false
  destroyed = false
  writableEnded = false
  shouldKeepAlive = false
  #closed = false

  writeHead(status: number): this {
    this.statusCode = status
    this.headersSent = true
    return this
  }

  /** always ready for more: nothing is kept, so there is no backpressure */
  write(_chunk: unknown): boolean {
    return true
  }

  end(_chunk?: unknown): this {
    if (this.writableEnded) return this
    this.writableEnded = true
    this.headersSent = true
    this.#close()
    return this
  }

  destroy(): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.#close()
    return this
  }

  #close(): void {
    if (this.#closed) return
    this.#closed = true
    // after the caller's own end-of-response work (body taps run before end), as a socket would
    queueMicrotask(() => this.emit('close'))
  }
}
