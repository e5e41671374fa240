import type { ConsumerInfo, CredentialInfo, RequestContext } from '../../../core/context.js'
import type { ConfigDocument } from '../../../core/entities.js'

/** Kong's upstream identity headers (`kong.constants.HEADERS`), lower-case. */
export const CONSUMER_ID = 'x-consumer-id'
export const CONSUMER_CUSTOM_ID = 'x-consumer-custom-id'
export const CONSUMER_USERNAME = 'x-consumer-username'
export const CREDENTIAL_IDENTIFIER = 'x-credential-identifier'
export const ANONYMOUS = 'x-anonymous-consumer'

/**
 * Who a credential authenticates: the consumer and the credential as the request context
 * carries them. Built once per credential at config load, so a successful request allocates
 * nothing to say who it is.
 *
 * @example
 *   const alice = new Identity({ id: 'c1', username: 'alice' }, { id: 'k1', identifier: 'k1' })
 *   authenticate(ctx, alice)
 */
export class Identity {
  constructor(
    readonly consumer: ConsumerInfo,
    readonly credential: CredentialInfo,
  ) {}
}

function edits(ctx: RequestContext): Map<string, string | string[] | null> {
  return ctx.upstreamHeaderEdits ?? (ctx.upstreamHeaderEdits = new Map())
}

/**
 * Marks the request as authenticated and sets the identity headers upstream, replacing any copy
 * the client sent (Kong's `set_consumer`: a header with no value is cleared, never left as the
 * client wrote it).
 *
 * @example
 *   authenticate(ctx, identity) // X-Consumer-ID, X-Consumer-Username, X-Credential-Identifier…
 */
export function authenticate(ctx: RequestContext, identity: Identity): void {
  const c = identity.consumer
  ctx.consumer = c
  ctx.credential = identity.credential
  ctx.anonymous = false
  const e = edits(ctx)
  e.set(CONSUMER_ID, c.id)
  e.set(CONSUMER_CUSTOM_ID, c.custom_id ?? null)
  e.set(CONSUMER_USERNAME, c.username ?? null)
  e.set(CREDENTIAL_IDENTIFIER, identity.credential.identifier)
  e.set(ANONYMOUS, null)
}

/**
 * The configured anonymous consumer stands in for a request that did not authenticate
 * (Kong's logical OR): consumer headers set, no credential, `X-Anonymous-Consumer: true`.
 *
 * @example
 *   authenticateAnonymous(ctx, { id: 'c0', username: 'guest' })
 */
export function authenticateAnonymous(ctx: RequestContext, consumer: ConsumerInfo): void {
  ctx.consumer = consumer
  ctx.credential = null
  ctx.anonymous = true
  const e = edits(ctx)
  e.set(CONSUMER_ID, consumer.id)
  e.set(CONSUMER_CUSTOM_ID, consumer.custom_id ?? null)
  e.set(CONSUMER_USERNAME, consumer.username ?? null)
  e.set(CREDENTIAL_IDENTIFIER, null)
  e.set(ANONYMOUS, 'true')
}

/**
 * Removes client-sent identity headers when no plugin has identified anyone yet (a preflight
 * the plugin lets through): an upstream must never trust an `X-Consumer-ID` the client wrote.
 *
 * @example
 *   if (ctx.method === 'OPTIONS') stripIdentity(ctx)
 */
export function stripIdentity(ctx: RequestContext): void {
  if (ctx.consumer !== null) return
  const h = ctx.req.headers
  if (
    h[CONSUMER_ID] === undefined &&
    h[CONSUMER_CUSTOM_ID] === undefined &&
    h[CONSUMER_USERNAME] === undefined &&
    h[CREDENTIAL_IDENTIFIER] === undefined &&
    h[ANONYMOUS] === undefined
  ) {
    return
  }
  const e = edits(ctx)
  e.set(CONSUMER_ID, null)
  e.set(CONSUMER_CUSTOM_ID, null)
  e.set(CONSUMER_USERNAME, null)
  e.set(CREDENTIAL_IDENTIFIER, null)
  e.set(ANONYMOUS, null)
}

/** The consumers of one document, by id and by username, as the context carries them. */
export interface ConsumerDirectory {
  readonly byId: ReadonlyMap<string, ConsumerInfo>
  readonly byUsername: ReadonlyMap<string, ConsumerInfo>
}

// Every auth plugin instance of one config shares one directory: built once per document.
const directories = new WeakMap<ConfigDocument, ConsumerDirectory>()

/**
 * The consumers of a document, indexed once per document (shared by every auth plugin instance
 * built from it).
 *
 * @example
 *   consumersOf(env.document).byId.get(credential.consumer.id)?.username
 */
export function consumersOf(doc: ConfigDocument): ConsumerDirectory {
  let dir = directories.get(doc)
  if (dir === undefined) {
    const byId = new Map<string, ConsumerInfo>()
    const byUsername = new Map<string, ConsumerInfo>()
    for (const c of doc.consumers) {
      const info: ConsumerInfo = Object.freeze({ id: c.id, username: c.username, custom_id: c.custom_id })
      byId.set(c.id, info)
      if (c.username !== undefined) byUsername.set(c.username, info)
    }
    dir = { byId, byUsername }
    directories.set(doc, dir)
  }
  return dir
}

/**
 * Kong's `anonymous` field: a consumer id, or a username. Undefined when it names nobody.
 *
 * @example
 *   findConsumer(consumersOf(doc), 'guest')?.id
 */
export function findConsumer(dir: ConsumerDirectory, idOrUsername: string): ConsumerInfo | undefined {
  return dir.byId.get(idOrUsername) ?? dir.byUsername.get(idOrUsername)
}
