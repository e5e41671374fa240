import type { ConsumerInfo, RequestContext } from '../../../core/context.js'
import { reply } from '../../../core/errors.js'
import type { AccessResult, Reply } from '../../../core/plugin.js'
import { authenticate, authenticateAnonymous, Identity, stripIdentity } from './identity.js'

/** A reply, as opposed to the other things an authenticator returns. */
export function isReply(v: unknown): v is Reply {
  return typeof (v as Reply | null)?.status === 'number'
}

/** What an authenticator says about one request: who it is, or the reply that refuses it. */
export type AuthResult = Identity | Reply

/** What every Kong auth plugin shares around its own credential check. */
export interface AuthFlowOptions {
  /** `config.anonymous` as given (id or username), undefined when not set */
  anonymous: string | undefined
  /** the consumer it names; undefined when it names nobody (Kong answers 500 then, naming it) */
  anonymousConsumer: ConsumerInfo | undefined
  /** `config.run_on_preflight` */
  runOnPreflight: boolean
  /** checks the request's credential; sync when it can (no promise on the hot path) */
  check(ctx: RequestContext): AuthResult | Promise<AuthResult>
}

/**
 * The access handler of an auth plugin, with Kong 3.x's semantics around the plugin's own
 * credential check:
 * - `run_on_preflight: false` lets `OPTIONS` through unauthenticated (client-sent identity
 *   headers still removed);
 * - without `anonymous` (logical AND) a failed check answers with its reply;
 * - with `anonymous` (logical OR) a request another auth plugin already authenticated passes
 *   untouched, and a failed check continues as the anonymous consumer.
 *
 * Stays synchronous unless the check returns a promise.
 *
 * @example
 *   access: authFlow({ anonymous: config.anonymous, anonymousConsumer, runOnPreflight: true, check })
 */
export function authFlow(
  opts: AuthFlowOptions,
): (ctx: RequestContext) => AccessResult | Promise<AccessResult> {
  const { check, runOnPreflight } = opts
  const or = opts.anonymous !== undefined
  const anonymous = opts.anonymousConsumer
  // Kong's wording (`set_anonymous_consumer`), built once
  const missing = `anonymous consumer ${opts.anonymous} is configured but doesn't exist`
  const finish = (ctx: RequestContext, r: AuthResult): AccessResult => {
    if (r instanceof Identity) {
      authenticate(ctx, r)
      return undefined
    }
    if (!or) return r
    if (anonymous === undefined) return reply(ctx, 'ANONYMOUS_MISSING', { message: missing })
    authenticateAnonymous(ctx, anonymous)
    return undefined
  }
  return (ctx) => {
    if (!runOnPreflight && ctx.method === 'OPTIONS') {
      stripIdentity(ctx)
      return undefined
    }
    if (or && ctx.credential !== null) return undefined
    const r = check(ctx)
    if (r instanceof Promise) return r.then((v) => finish(ctx, v))
    return finish(ctx, r)
  }
}
