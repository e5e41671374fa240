import type { RequestContext } from '../../core/context.js'
import { queryParam } from '../kit/auth/query.js'

/** Where a configured jwt plugin looks for the token, in Kong's order. */
export interface TokenSources {
  readonly uriParams: readonly string[]
  readonly cookies: readonly string[]
  /** lower-case header names */
  readonly headers: readonly string[]
}

/** Two different tokens in one request (Kong: 401 "Multiple tokens provided"). */
export const MULTIPLE = Symbol('multiple tokens')

const BEARER = /\s*[Bb]earer\s+(.+)/

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * The request's token, Kong 3.x's `retrieve_tokens`: query parameters, then cookies, then
 * `Bearer` headers; the same token found in several places counts once, two different ones are
 * {@link MULTIPLE}. Undefined when there is none.
 *
 * @example
 *   findToken(ctx, { uriParams: ['jwt'], cookies: [], headers: ['authorization'] }) // → 'eyJ…'
 */
export function findToken(ctx: RequestContext, sources: TokenSources): string | typeof MULTIPLE | undefined {
  let token: string | undefined
  let multiple = false
  const add = (t: string | undefined): void => {
    if (t === undefined || t === '') return
    if (token === undefined) token = t
    else if (token !== t) multiple = true
  }
  if (ctx.query !== '') {
    for (const name of sources.uriParams) {
      const v = queryParam(ctx.query, name)
      if (typeof v === 'string') add(v)
      else if (Array.isArray(v)) for (const one of v) add(one)
    }
  }
  const headers = ctx.req.headers
  for (const name of sources.cookies) add(cookie(headers.cookie, name))
  for (const name of sources.headers) {
    const h = headers[name]
    const value = Array.isArray(h) ? h[0] : h
    if (value === undefined) continue
    // the common case without a regex: exactly "Bearer <token>"
    if (value.startsWith('Bearer ') && value.indexOf(' ', 7) === -1) add(value.slice(7))
    else add(BEARER.exec(value)?.[1])
  }
  return multiple ? MULTIPLE : token
}
