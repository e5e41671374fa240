import { randomUUID } from 'node:crypto'
import { type FileHandle, open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { RequestContext } from '../core/context.js'
import { GatewayError } from '../core/errors.js'

/** Where buffered request bodies live (node settings; see `Limits`). */
export interface BufferLimits {
  /** bytes of one buffered body kept in memory; a longer body goes to a temporary file */
  memory: number
  /** bytes of buffered bodies in memory on the whole node; past it, bodies go to files too */
  total: number
  /** directory of the temporary files */
  dir: string
  /** longest wait for the next piece of a body being buffered (nginx's client_body_timeout), ms */
  idleTimeout: number
}

/**
 * The node's budget of memory held by buffered request bodies: one counter, read and written
 * only by requests that buffer a body.
 */
export class BodyBuffers {
  used = 0
  constructor(readonly limits: BufferLimits) {}

  reserve(bytes: number): boolean {
    if (this.used + bytes > this.limits.total) return false
    this.used += bytes
    return true
  }

  free(bytes: number): void {
    this.used -= bytes
  }
}

/** bytes per read of a body's temporary file */
const FILE_READ = 64 * 1024

/**
 * One pass over a temporary file's bytes. Reads through the handle by position, so passes (one
 * per upstream attempt) never share a file offset; destroying one (undici does when an attempt
 * fails) leaves the handle open for the next, which `fs.ReadStream` would not.
 */
class FileBody extends Readable {
  #pos = 0
  constructor(
    readonly file: FileHandle,
    readonly size: number,
  ) {
    super({ highWaterMark: FILE_READ })
  }
  override _read(): void {
    const len = Math.min(this.size - this.#pos, FILE_READ)
    if (len <= 0) return void this.push(null)
    const buf = Buffer.allocUnsafe(len)
    this.file.read(buf, 0, len, this.#pos).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return void this.destroy(new Error('temporary body file ended early'))
        this.#pos += bytesRead
        this.push(bytesRead === len ? buf : buf.subarray(0, bytesRead))
      },
      (err: unknown) => this.destroy(err as Error),
    )
  }
}

/**
 * A request body read completely before the upstream is asked for a connection (the route's
 * `request_buffering`): in memory (`memory`, also given to the proxy as `ctx.upstreamBody`), or
 * in a temporary file removed from the directory as soon as it is open, so nothing is left
 * behind whatever happens to the process; the file is read once per upstream attempt (a
 * buffered body can be retried) and closed by {@link release}.
 */
export class BufferedBody {
  #released = false

  constructor(
    readonly size: number,
    readonly memory: Buffer | null,
    readonly file: FileHandle | null,
    readonly owner: BodyBuffers,
  ) {}

  /** A new stream of the file's bytes (only for a body in a file). */
  stream(): Readable {
    return new FileBody(this.file!, this.size)
  }

  /** Gives the memory back, or closes the file; safe to call twice. */
  release(): void {
    if (this.#released) return
    this.#released = true
    if (this.memory !== null) this.owner.free(this.size)
    // FileHandle.close waits for reads in progress, and a closed handle refuses new ones: no
    // read ever lands on a descriptor number the process has given to something else
    this.file?.close().catch(() => {})
  }
}

/**
 * Reads the client's body completely: in memory while it stays within the per-request bound and
 * the node's budget, then in a temporary file (the bytes so far written first). The client is
 * paused while a piece is written, so a fast uploader never piles memory up behind a slow disk.
 * Rejects with 413 past `ctx.maxBody` (the rest is never read), 408 when the client sends
 * nothing for `idleTimeout`, 400 when it goes away; a file already opened is closed on every one
 * of these.
 *
 * @example
 *   const body = await bufferBody(ctx, gateway.buffers, x.contentLength)
 */
export function bufferBody(
  ctx: RequestContext,
  buffers: BodyBuffers,
  contentLength: number,
): Promise<BufferedBody> {
  const req = ctx.req
  const limits = buffers.limits
  const max = ctx.maxBody
  return new Promise<BufferedBody>((resolve, reject) => {
    // the pieces while in memory; null once the body goes to a file
    let chunks: Buffer[] | null = []
    let size = 0
    let reserved = 0
    let file: FileHandle | null = null
    let written = 0
    // file work runs one task after the other; the client is paused while any is pending
    let writing: Promise<void> = Promise.resolve()
    let pending = 0
    let settled = false
    const timer = setTimeout(() => fail(new GatewayError('REQUEST_TIMEOUT')), limits.idleTimeout)
    const cleanup = (): void => {
      clearTimeout(timer)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const fail = (err: unknown): void => {
      if (settled) return
      settled = true
      cleanup()
      if (reserved > 0) buffers.free(reserved)
      chunks = null
      const f = file
      if (f !== null) void writing.finally(() => f.close().catch(() => {}))
      reject(err)
    }
    const enqueue = (task: () => Promise<void>): void => {
      pending++
      req.pause()
      writing = writing
        .then(async () => {
          if (settled) return
          await task()
          if (--pending === 0 && !settled) req.resume()
        })
        .catch(fail)
    }
    const append = (b: Buffer) => async (): Promise<void> => {
      await file!.write(b, 0, b.length, written)
      written += b.length
    }
    const spill = (): void => {
      const before = chunks!
      chunks = null
      buffers.free(reserved)
      reserved = 0
      enqueue(async () => {
        const f = await tempFile(limits.dir)
        if (settled) return void (await f.close().catch(() => {}))
        file = f
        for (const b of before) await append(b)()
      })
    }
    const onData = (chunk: Buffer): void => {
      timer.refresh()
      size += chunk.length
      if (max > 0 && size > max) {
        req.pause()
        ctx.res.shouldKeepAlive = false
        return fail(new GatewayError('BODY_TOO_LARGE'))
      }
      if (chunks === null) return enqueue(append(chunk))
      chunks.push(chunk)
      if (size <= limits.memory && buffers.reserve(chunk.length)) reserved += chunk.length
      else spill()
    }
    const onEnd = (): void => {
      cleanup()
      void writing.then(() => {
        if (settled) return
        settled = true
        if (chunks === null) return resolve(new BufferedBody(size, null, file, buffers))
        resolve(
          new BufferedBody(
            size,
            chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
            null,
            buffers,
          ),
        )
      })
    }
    const onError = (err: unknown): void =>
      fail(new GatewayError('BAD_REQUEST', 'Bad request: the request body could not be read', { cause: err }))
    const onClose = (): void => {
      if (!req.complete) onError(new Error('client closed the connection'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
    // a reader before may have paused it (a plugin that read only the start and put it back)
    req.resume()
    // a length known to be past the bounds goes to a file from the start
    if (contentLength > limits.memory || contentLength > limits.total - buffers.used) spill()
  })
}

/** A new file in `dir`, removed from the directory at once: it lives as long as its handle. */
async function tempFile(dir: string): Promise<FileHandle> {
  const path = join(dir, `portico-body-${randomUUID()}`)
  const f = await open(path, 'wx+', 0o600)
  await unlink(path).catch(() => {})
  return f
}
