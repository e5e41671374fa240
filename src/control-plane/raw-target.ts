import type http from 'node:http'
import type net from 'node:net'
import { Duplex } from 'node:stream'

/**
 * Raw UTF-8 in Admin API request lines (`GET /services/円`, what curl and Kong's own test client
 * send for a URL typed with such characters). Kong's nginx accepts the bytes; Node's HTTP
 * parser refuses any byte ≥ 0x80 in a request target, with or without `insecureHTTPParser`
 * (which Portico never sets). So each admin connection passes through this filter first: it
 * percent-encodes those bytes in request lines only (`/services/%E5%86%86`, which the parser
 * accepts and the admin router decodes back to `円`) and changes nothing else.
 *
 * To know where the next request line starts it follows the framing the parser will follow:
 * the head up to its empty line, then `Content-Length` bytes or the chunked body. Anything it
 * does not follow exactly (two lengths, a length with `Transfer-Encoding`, a transfer coding
 * that is not chunked, an upgrade, CONNECT, a head or chunk line over 64 KiB) turns it into a
 * pass-through for the rest of the connection, and the strict parser answers as it always did.
 * The filter can therefore only ever change a request line the parser would have refused.
 *
 * Only the Admin API gets it (a few requests a minute, not the proxy's hot path).
 */

const MAX_LINE = 64 * 1024
const LF = 0x0a

type Mode = 'line' | 'head' | 'body' | 'size' | 'data' | 'data-end' | 'trailer' | 'pass'

/** The framing tracker: `push` takes bytes off the wire and returns what the parser gets. */
export class RequestLineFilter {
  #mode: Mode = 'line'
  #line: Buffer[] = []
  #lineLength = 0
  #left = 0
  #length: number | null = null
  #lengths = 0
  #chunked = false
  #otherCoding = false
  #upgrade = false
  #connect = false

  push(chunk: Buffer): Buffer {
    if (this.#mode === 'pass') return chunk
    const out: Buffer[] = []
    let pos = 0
    while (pos < chunk.length) {
      const mode = this.#mode as Mode
      if (mode === 'pass') {
        out.push(chunk.subarray(pos))
        break
      }
      if (mode === 'body' || mode === 'data') {
        const n = Math.min(this.#left, chunk.length - pos)
        out.push(chunk.subarray(pos, pos + n))
        pos += n
        this.#left -= n
        if (this.#left === 0) this.#mode = mode === 'body' ? 'line' : 'data-end'
        continue
      }
      const lf = chunk.indexOf(LF, pos)
      const end = lf < 0 ? chunk.length : lf + 1
      this.#line.push(chunk.subarray(pos, end))
      this.#lineLength += end - pos
      pos = end
      if (lf < 0) {
        if (this.#lineLength > MAX_LINE) out.push(this.#giveUp())
        continue
      }
      const line = Buffer.concat(this.#line, this.#lineLength)
      this.#line = []
      this.#lineLength = 0
      out.push(this.#onLine(line))
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out)
  }

  /** what was held back, now passed on as it came: the parser judges it */
  #giveUp(): Buffer {
    this.#mode = 'pass'
    const held = Buffer.concat(this.#line, this.#lineLength)
    this.#line = []
    this.#lineLength = 0
    return held
  }

  #onLine(line: Buffer): Buffer {
    const text = line.toString('latin1').replace(/\r?\n$/, '')
    switch (this.#mode) {
      case 'line':
        if (text === '') return line // the empty lines a parser skips before a request
        this.#mode = 'head'
        this.#length = null
        this.#lengths = 0
        this.#chunked = false
        this.#otherCoding = false
        this.#upgrade = false
        this.#connect = text.startsWith('CONNECT ')
        return encodeTarget(line)
      case 'head':
        if (text === '') this.#endOfHead()
        else this.#header(text)
        return line
      case 'size': {
        const size = /^([0-9a-fA-F]{1,8})(?:[ \t]*;.*)?$/.exec(text)
        if (size === null) this.#mode = 'pass'
        else {
          this.#left = Number.parseInt(size[1] as string, 16)
          this.#mode = this.#left === 0 ? 'trailer' : 'data'
        }
        return line
      }
      case 'data-end':
        this.#mode = text === '' ? 'size' : 'pass'
        return line
      case 'trailer':
        if (text === '') this.#mode = 'line'
        return line
      default:
        return line
    }
  }

  #header(text: string): void {
    const colon = text.indexOf(':')
    if (colon <= 0) return
    const name = text.slice(0, colon).trim().toLowerCase()
    const value = text
      .slice(colon + 1)
      .trim()
      .toLowerCase()
    if (name === 'content-length') {
      this.#lengths++
      this.#length = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN
    } else if (name === 'transfer-encoding') {
      const codings = value.split(',').map((c) => c.trim())
      if (codings[codings.length - 1] === 'chunked' && codings.length === 1) this.#chunked = true
      else this.#otherCoding = true
    } else if (name === 'upgrade') this.#upgrade = true
  }

  #endOfHead(): void {
    const length = this.#length
    if (
      this.#upgrade ||
      this.#connect ||
      this.#otherCoding ||
      this.#lengths > 1 ||
      (this.#chunked && length !== null) ||
      (length !== null && Number.isNaN(length))
    )
      this.#mode = 'pass'
    else if (this.#chunked) this.#mode = 'size'
    else if (length !== null && length > 0) {
      this.#left = length
      this.#mode = 'body'
    } else this.#mode = 'line'
  }
}

/** `GET /a/円 HTTP/1.1` → `GET /a/%E5%86%86 HTTP/1.1`; any other line as it came. */
export function encodeTarget(line: Buffer): Buffer {
  let high = false
  for (let i = 0; i < line.length; i++)
    if ((line[i] as number) >= 0x80) {
      high = true
      break
    }
  if (!high) return line
  const text = line.toString('latin1')
  const m = /^([A-Z]+) ([^ \r\n]+) (HTTP\/\d\.\d\r?\n)$/.exec(text)
  if (m === null) return line
  let target = ''
  for (const ch of m[2] as string) {
    const code = ch.charCodeAt(0)
    target += code >= 0x80 ? `%${code.toString(16).toUpperCase()}` : ch
  }
  return Buffer.from(`${m[1]} ${target} ${m[3]}`, 'latin1')
}

/** A connection as the HTTP server sees it: the filtered bytes of `socket`, answers written to it. */
class FilteredSocket extends Duplex {
  readonly #socket: net.Socket
  readonly #filter = new RequestLineFilter()

  constructor(socket: net.Socket) {
    super({ allowHalfOpen: false })
    this.#socket = socket
    socket.on('data', (d: Buffer) => {
      const out = this.#filter.push(d)
      // a partial line is held back until its end arrives: nothing to hand on yet
      if (out.length > 0 && !this.push(out)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
    socket.on('timeout', () => this.emit('timeout'))
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress
  }
  get remotePort(): number | undefined {
    return this.#socket.remotePort
  }
  get remoteFamily(): string | undefined {
    return this.#socket.remoteFamily
  }
  get localAddress(): string | undefined {
    return this.#socket.localAddress
  }
  get localPort(): number | undefined {
    return this.#socket.localPort
  }
  address() {
    return this.#socket.address()
  }
  setTimeout(ms: number, callback?: () => void): this {
    this.#socket.setTimeout(ms)
    if (callback !== undefined) this.once('timeout', callback)
    return this
  }
  setNoDelay(noDelay?: boolean): this {
    this.#socket.setNoDelay(noDelay)
    return this
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.#socket.setKeepAlive(enable, delay)
    return this
  }
  destroySoon(): void {
    this.end()
  }

  override _read(): void {
    this.#socket.resume()
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#socket.write(chunk, done)
  }
  override _final(done: (err?: Error | null) => void): void {
    this.#socket.end(done)
  }
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#socket.destroy()
    done(err)
  }
}

/**
 * Puts the request-line filter in front of `server`'s parser: its `'connection'` handler gets
 * the filtered stream instead of the socket (the listener still counts and closes the sockets).
 *
 * @example
 *   acceptRawTargets(createPlainServer(createAdminApi(options), limits))
 */
export function acceptRawTargets(server: http.Server): http.Server {
  const handlers = server.listeners('connection') as Array<(socket: Duplex) => void>
  server.removeAllListeners('connection')
  server.on('connection', (socket: net.Socket) => {
    const filtered = new FilteredSocket(socket)
    for (const handle of handlers) handle.call(server, filtered)
  })
  return server
}
