import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * How long a closing connection keeps reading (and discarding) what the client still sends
 * after the gateway's last response (nginx's `lingering_timeout`, 5 s). Without it, closing a
 * socket with unread bytes makes the kernel send a reset, and a client still uploading sees the
 * reset instead of the 413 that explains it.
 */
const LINGER_MS = 5000

const kClosing = Symbol('portico.closing')
type Marked = Socket & { [kClosing]?: true }

/**
 * The connection ends after this response (RFC 9112 §9.6, §11.2): `Connection: close` goes out,
 * and any request already parsed behind this one on the same connection (pipelined, or bytes a
 * desynced framing made into a request) is never routed: {@link isClosing} tells the gateway
 * to ignore it. With `linger`, the close is lingering: the response is followed by a FIN while
 * reading goes on until the client closes or {@link LINGER_MS} pass.
 */
export function closeAfter(res: ServerResponse, linger: boolean): void {
  // HTTP/2: the refusal ends its own stream; the connection and its other streams go on (the
  // stream's framing cannot desync the connection, so nothing behind it needs ignoring)
  if ((res as { stream?: unknown }).stream !== undefined) return
  res.shouldKeepAlive = false
  const socket = res.socket as Marked | null
  if (socket === null) return
  socket[kClosing] = true
  // node:http ends a `Connection: close` response with destroySoon(): FIN, then destroy once
  // written. The server is half-open capable, so ending alone keeps the read side (and its
  // parser, which discards the rest of the body) going until the client is done.
  if (linger) socket.destroySoon = lingeringClose
}

/** A response already decided that this connection ends: requests parsed after it are ignored. */
export function isClosing(socket: Socket): boolean {
  return (socket as Marked)[kClosing] === true
}

function lingeringClose(this: Socket): void {
  this.end()
  const timer = setTimeout(() => this.destroy(), LINGER_MS)
  timer.unref()
  this.once('close', () => clearTimeout(timer))
}
