import { Transform, type TransformCallback } from 'node:stream'

class WriteTimeoutError extends Error {
  readonly code = 'PORTICO_WRITE_TIMEOUT'
}

class BodyTooLargeError extends Error {
  readonly code = 'PORTICO_BODY_TOO_LARGE'
}

/**
 * Streams the client's body upstream while enforcing the service's write timeout (longest gap
 * between two chunks reaching the upstream) and the body size limit for bodies without a
 * Content-Length. Only requests with a body pay for it.
 */
export class BodyGuard extends Transform {
  #bytes = 0
  #timer: NodeJS.Timeout | null = null
  constructor(
    readonly writeTimeout: number,
    readonly maxBody: number,
  ) {
    super()
    this.#arm()
  }
  #arm(): void {
    if (this.writeTimeout <= 0) return
    if (this.#timer !== null) this.#timer.refresh()
    else
      this.#timer = setTimeout(
        () => this.destroy(new WriteTimeoutError('upstream write timeout')),
        this.writeTimeout,
      )
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#bytes += chunk.length
    if (this.maxBody > 0 && this.#bytes > this.maxBody)
      return cb(new BodyTooLargeError('request body too large'))
    this.#arm()
    cb(null, chunk)
  }
  override _flush(cb: TransformCallback): void {
    this.stop()
    cb()
  }
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }
  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.stop()
    cb(err)
  }
}
