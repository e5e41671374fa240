import { randomUUID } from 'node:crypto'
import type { RequestContext } from '../../core/context.js'
import type { UpstreamEntity } from '../../core/entities.js'
import type { PickInput } from './types.js'

type HashOn = UpstreamEntity['hash_on']
type KeyOf = (ctx: RequestContext) => string | undefined

const NO_HASH: PickInput = Object.freeze({ hashKey: undefined, fallbackKey: undefined })

/** Several values of one header or query argument hash the same whatever their order (Kong sorts). */
function joined(values: readonly string[]): string | undefined {
  if (values.length === 0) return undefined
  return values.length === 1 ? values[0] : [...values].sort().join(',')
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function keyOf(u: UpstreamEntity, on: HashOn, fallback: boolean): KeyOf | undefined {
  switch (on) {
    case 'none':
      return undefined
    case 'consumer':
      return (ctx) => ctx.consumer?.id ?? ctx.credential?.id
    case 'ip':
      return (ctx) => nonEmpty(ctx.clientIp)
    case 'path':
      return (ctx) => ctx.path
    case 'header': {
      const name = (fallback ? u.hash_fallback_header : u.hash_on_header)?.toLowerCase()
      if (!name) return undefined
      return (ctx) => {
        const v = ctx.headers[name]
        return nonEmpty(Array.isArray(v) ? joined(v) : v)
      }
    }
    case 'query_arg': {
      const name = fallback ? u.hash_fallback_query_arg : u.hash_on_query_arg
      if (!name) return undefined
      return (ctx) => (ctx.query === '' ? undefined : joined(new URLSearchParams(ctx.query).getAll(name)))
    }
    case 'uri_capture': {
      const name = fallback ? u.hash_fallback_uri_capture : u.hash_on_uri_capture
      if (!name) return undefined
      return (ctx) => nonEmpty(ctx.captures?.[name])
    }
    case 'cookie': {
      const name = u.hash_on_cookie
      if (!name || fallback) return undefined
      const attributes = `; Path=${u.hash_on_cookie_path}`
      // As Kong: a client without the cookie gets one, so its next requests stick to a target.
      return (ctx) => {
        const value = nonEmpty(cookieValue(ctx.header('cookie'), name))
        if (value !== undefined) return value
        const fresh = randomUUID()
        ctx.addResponseHeader('set-cookie', `${name}=${fresh}${attributes}`)
        return fresh
      }
    }
  }
}

/**
 * Compiles an upstream's `hash_on` / `hash_fallback` settings into the function that reads a
 * request's {@link PickInput}. Upstreams that do not hash get a shared constant input, so only
 * consistent hashing costs anything per request.
 *
 * @example
 *   const inputOf = compileHashInput(upstream) // once, at config load
 *   const target = balancer.pick(inputOf(ctx))  // per request
 */
export function compileHashInput(upstream: UpstreamEntity): (ctx: RequestContext) => PickInput {
  if (upstream.algorithm !== 'consistent-hashing') return () => NO_HASH
  const primary = keyOf(upstream, upstream.hash_on, false)
  const secondary = keyOf(upstream, upstream.hash_fallback, true)
  if (primary === undefined && secondary === undefined) return () => NO_HASH
  return (ctx) => {
    const hashKey = primary?.(ctx)
    return { hashKey, fallbackKey: hashKey === undefined ? secondary?.(ctx) : undefined }
  }
}
