import type { RequestContext } from '../../core/context.js'
import type { BodyTap, ResponseHead } from '../../core/plugin.js'
import { type CachedResponse, encode, storableHeaders, type VaryIndex } from './entry.js'
import { sha256, variantKey } from './key.js'
import { type Storable, storable } from './rules.js'
import type { RequestState } from './state.js'
import { type CacheParts, dropped, FRONT_TTL_MS, settle } from './steps.js'

/**
 * The response phase of a response that may be stored: its key (a Vary index decides the
 * variant; a response varying on other headers starts a new index) and a tap that stores the
 * body as it streams to the client.
 */
export function prepareStore(
  c: CacheParts,
  ctx: RequestContext,
  s: RequestState,
  head: ResponseHead,
  st: Storable,
  now: number,
): void {
  if (st.vary.length > 0) {
    const same = s.index !== null && s.index.names.join('\n') === st.vary.join('\n')
    if (!same) s.index = newIndex(s.base, st.vary, now)
    s.writeIndex = true
    s.key = variantKey(ctx, s.base, s.index!.epoch, s.index!.names)
  } else {
    s.index = null
    s.key = s.base
  }
  s.storable = st
  ;(head.taps ??= []).push(new StoreTap(c, ctx, s, head))
}

/** The whole body went out: store it (the head is final now: re-check what may have changed). */
export function store(
  c: CacheParts,
  ctx: RequestContext,
  s: RequestState,
  head: ResponseHead,
  body: Buffer,
): void {
  const now = Date.now()
  const st = storable(c.r, head, now)
  if (st === null || s.storable === null) return dropped(c, s)
  const { headers, bytes } = storableHeaders(head.headers, ctx.responseHeaders)
  const storageMs = Math.max(c.r.storageTtl ?? st.ttl, st.ttl + Math.max(st.swr, st.sie)) * 1000
  const idx = s.writeIndex ? s.index : null
  const e: CachedResponse = {
    kind: 'response',
    key: s.key,
    status: head.status,
    headers,
    body,
    storedAt: now,
    ttl: st.ttl,
    swr: st.swr,
    sie: st.sie,
    storageMs,
    bytes: body.length + bytes + 256,
    base: idx === null ? null : s.base,
    vary: idx === null ? null : idx.names,
    epoch: idx === null ? null : idx.epoch,
  }
  const index: VaryIndex | null = idx === null ? null : { ...idx, storedAt: now, storageMs }
  const mem = c.inst.memory
  const rc = c.inst.redis
  const keep = rc === null ? storageMs : Math.min(FRONT_TTL_MS, storageMs)
  if (index !== null) mem.set(s.base, index, index.bytes, keep)
  mem.set(e.key, e, e.bytes, keep)
  settle(s, e, null)
  if (rc === null) return
  s.lockDone = true
  const writes = [rc.set(e.key, encode(e), storageMs)]
  if (index !== null) writes.push(rc.set(s.base, encode(index), storageMs))
  const waitKey = s.waitKey || s.key
  Promise.all(writes)
    .then(
      () => rc.release(waitKey, s.lockToken || '-', true),
      (err: unknown) => {
        c.logger.debug({ err }, 'proxy-cache: storing in redis failed')
        return rc.release(waitKey, s.lockToken || '-', false)
      },
    )
    .catch(() => {})
}

function newIndex(base: string, names: string[], now: number): VaryIndex {
  const epoch = sha256(`${base}\n${now}\n${Math.random()}`).slice(0, 16)
  return {
    kind: 'vary',
    key: base,
    names: Object.freeze(names),
    epoch,
    storedAt: now,
    storageMs: 0,
    bytes: 256,
  }
}

/** Collects the body as it streams to the client; stores it at the end if it stayed within bounds. */
class StoreTap implements BodyTap {
  #chunks: Buffer[] = []
  #size = 0
  #over = false

  constructor(
    readonly owner: CacheParts,
    readonly ctx: RequestContext,
    readonly s: RequestState,
    readonly head: ResponseHead,
  ) {}

  chunk(data: Buffer): void {
    if (this.#over) return
    this.#size += data.length
    if (this.#size > this.owner.r.maxBody) {
      this.#over = true
      this.#chunks = []
      dropped(this.owner, this.s) // waiters need not wait for a body that will not be stored
      return
    }
    this.#chunks.push(data)
  }

  end(): void {
    if (this.#over) return
    this.#over = true
    store(this.owner, this.ctx, this.s, this.head, Buffer.concat(this.#chunks, this.#size))
    this.#chunks = []
  }

  abort(): void {
    this.#over = true
    this.#chunks = []
    dropped(this.owner, this.s)
  }
}
