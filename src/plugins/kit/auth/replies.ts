import type { RequestContext } from '../../../core/context.js'
import { ERRORS, errorBody } from '../../../core/errors.js'
import type { Reply } from '../../../core/plugin.js'

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * An auth failure as Kong's `kong.response.error` sends it: JSON `{"message", "request_id"}`,
 * with a `WWW-Authenticate` challenge when one is given.
 *
 * @example
 *   return unauthorized(ctx, 'No API key found in request', 'Key realm="kong"')
 */
export function unauthorized(ctx: RequestContext, message: string, challenge?: string): Reply {
  return failure(ctx, ERRORS.UNAUTHORIZED.status, message, challenge)
}

/**
 * 403 `{"message":"You cannot consume this service"}` (acl).
 *
 * @example
 *   return forbidden(ctx)
 */
export function forbidden(ctx: RequestContext, message: string = ERRORS.FORBIDDEN.message): Reply {
  return failure(ctx, ERRORS.FORBIDDEN.status, message)
}

/**
 * 500 `{"message":"An unexpected error occurred"}`: what Kong answers when the configured
 * anonymous consumer does not exist.
 *
 * @example
 *   if (anonymous === undefined) return unexpected(ctx)
 */
export function unexpected(ctx: RequestContext): Reply {
  return failure(ctx, ERRORS.INTERNAL.status, ERRORS.INTERNAL.message)
}

/**
 * Any status with a message body and an optional challenge.
 *
 * @example
 *   failure(ctx, 401, 'Unauthorized', 'Basic realm="service"')
 */
export function failure(ctx: RequestContext, status: number, message: string, challenge?: string): Reply {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE }
  if (challenge !== undefined) headers['www-authenticate'] = challenge
  return { status, headers, body: errorBody(message, ctx.id) }
}

/**
 * A reply with a JSON object body exactly as given (jwt's claim errors: `{"exp":"token expired"}`).
 *
 * @example
 *   jsonReply(401, { exp: 'token expired' }, 'Bearer error="invalid_token"')
 */
export function jsonReply(status: number, body: object, challenge?: string): Reply {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE }
  if (challenge !== undefined) headers['www-authenticate'] = challenge
  return { status, headers, body: JSON.stringify(body) }
}

/** A reply, as opposed to the other things an authenticator returns. */
export function isReply(v: unknown): v is Reply {
  return typeof (v as Reply | null)?.status === 'number'
}
