import type { Socket } from 'node:net'
import { buildConnector } from 'undici'

/** a response head this long without its end is no interim answer we wait for: passed on as is */
const MAX_INTERIM_HEAD = 16 * 1024
const CR = 13

/**
 * Where each response's first bytes are: `HTTP/1.x NNN` puts the status's first digit at 9.
 * A 1xx head is `HTTP/1.x 1`; anything else at that offset is a final answer.
 */
function interimStatus(buf: Buffer): number | 'final' | 'short' {
  const n = Math.min(buf.length, 10)
  for (let i = 0; i < n; i++) {
    // `HTTP/1.0` or `HTTP/1.1`, then a status starting with 1
    if (buf[i] !== PREFIX[i] && !(i === 7 && buf[i] === DIGIT_0)) return 'final'
  }
  if (buf.length < 12) return 'short'
  return Number(buf.toString('latin1', 9, 12))
}
const PREFIX = Buffer.from('HTTP/1.1 1')
const DIGIT_0 = 48

/**
 * An upstream's `100 Continue` the gateway never asked for (it never forwards `Expect`): RFC 9110
 * §15.2 says a client parses and ignores an unexpected 1xx, but undici takes any 100 on HTTP/1.1
 * for a broken response and the client would get a 502. This takes such heads out of what
 * undici's parser reads, at the start of a response only; other 1xx (102, 103) go on to undici,
 * which skips them itself, and a 101 ends the watch (what follows is another protocol).
 *
 * The start of a response is known without parsing any framing: the upstream pools never
 * pipeline, so a response starts after undici wrote a request head (a latin1 string beginning
 * with the method; chunk-size lines it writes begin with CRLF) and ends at the first final head.
 * Cost per request: a `typeof` on each write and a byte comparison on the first read.
 */
export function watchInterim(socket: Socket): void {
  // a request went out and its final head has not been read yet
  let awaiting = false
  let held: Buffer | null = null
  const write = socket.write as (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean
  // fixed parameters, not `...rest`: no array per write (Writable.write takes (chunk, cb) too)
  socket.write = function (this: Socket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (typeof chunk === 'string' && chunk.charCodeAt(0) !== CR) awaiting = true
    return write.call(this, chunk, encoding, cb)
  } as Socket['write']
  const read = socket.read
  socket.read = function (this: Socket, size?: number): Buffer | null {
    let chunk = read.call(this, size) as Buffer | null
    if (!awaiting || size === 0) return chunk
    if (held !== null) {
      chunk = chunk === null ? held : Buffer.concat([held, chunk])
      held = null
    }
    if (chunk === null) return null
    let out: Buffer[] | null = null
    for (;;) {
      const status = interimStatus(chunk)
      if (status === 'short') {
        held = chunk
        break
      }
      if (status === 'final' || status >= 200 || status === 101) {
        awaiting = false
        ;(out ??= []).push(chunk)
        break
      }
      const end = chunk.indexOf('\r\n\r\n')
      if (end === -1) {
        if (chunk.length > MAX_INTERIM_HEAD) {
          awaiting = false
          ;(out ??= []).push(chunk)
        } else held = chunk
        break
      }
      // 100: dropped; 102, 103: undici reads and skips them
      if (status !== 100) (out ??= []).push(chunk.subarray(0, end + 4))
      chunk = chunk.subarray(end + 4)
      if (chunk.length === 0) break
    }
    if (out === null) return null
    return out.length === 1 ? out[0]! : Buffer.concat(out)
  } as Socket['read']
}

/** undici's own connector, with {@link watchInterim} on every socket it opens. */
export function interimAwareConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options)
  return (opts, callback) => {
    // the callback's overloads take (err, null) or (null, socket)
    const done = callback as (e: Error | null, s: unknown) => void
    connect(opts, (err, socket) => {
      // a failed connect calls back with the error alone
      if (err === null && socket != null) watchInterim(socket as Socket)
      done(err, socket)
    })
  }
}
