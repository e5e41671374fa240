import type { RequestContext } from '../../core/context.js'
import type { AccessResult, PluginDefinition, PluginInstance } from '../../core/plugin.js'
import { hasRequestBody, readBody } from '../kit/body.js'
import { type Args, appendArg, decodeArgs, encodeArgs } from '../kit/transform/args.js'
import { splitPair } from '../kit/transform/pairs.js'
import { boundaryOf, transformMultipartBody } from './multipart.js'
import { type Config, schema } from './schema.js'
import { compileTemplate, render, type TemplateEnv } from './template.js'
import {
  type BodyKind,
  bodyKind,
  type Entry,
  type HeaderEdits,
  isEmpty,
  type Ops,
  transformArgs,
  transformFormBody,
  transformHeaders,
  transformJsonBody,
} from './transform.js'

type Section = 'headers' | 'querystring' | 'body'

/** Splits and compiles one section of the config; header names are lower-cased. */
function compileOps(config: Config, section: Section): Ops {
  const name = (n: string) => (section === 'headers' ? n.toLowerCase() : n)
  const pairs = (entries: readonly string[]): Entry[] => {
    const out: Entry[] = []
    for (const e of entries) {
      const p = splitPair(e)
      // a header entry without a value does nothing in Kong (its iterator yields no value)
      if (p.value !== '') out.push([name(p.name), compileTemplate(p.value), p.name])
    }
    return out
  }
  return {
    remove: config.remove[section].map((e) => name(splitPair(e).name)),
    rename: pairs(config.rename[section]),
    replace: pairs(config.replace[section]),
    add: pairs(config.add[section]),
    append: pairs(config.append[section]),
  }
}

const usesTemplates = (ops: Ops): boolean =>
  [ops.rename, ops.replace, ops.add, ops.append].some((list) => list.some(([, v]) => typeof v !== 'string'))

/** The request as templates see it: the state before this plugin changed anything. */
function templateEnv(ctx: RequestContext): TemplateEnv {
  let query: Args | null = null
  return {
    header: (name) => ctx.header(name),
    query: (name) => {
      query ??= decodeArgs(ctx.query)
      const v = query.get(name)
      const first = Array.isArray(v) ? v[0] : v
      return typeof first === 'string' ? first : first === true ? '' : undefined
    },
    capture: (name) => ctx.captures?.[name],
  }
}

const NO_ENV: TemplateEnv = { header: () => undefined, query: () => undefined, capture: () => undefined }

/** Characters left as they are in an upstream path; anything else is percent-encoded. */
const PATH_UNSAFE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu
function toPath(rendered: string): string {
  const p = rendered.replace(PATH_UNSAFE, (c) => encodeURIComponent(c))
  return p.charCodeAt(0) === 47 /* / */ ? p : `/${p}`
}

function applyHeaders(ctx: RequestContext, edits: HeaderEdits | null): void {
  if (edits === null) return
  for (const [lower, { name, value }] of edits) {
    if (value === null) ctx.removeUpstreamHeader(lower)
    else ctx.setUpstreamHeader(name, value)
  }
}

/** The body in its own media type after the body operations; null when it stays as it was. */
function transformBody(
  raw: Buffer | null,
  kind: NonNullable<BodyKind>,
  contentType: string,
  ops: Ops,
  env: TemplateEnv,
): Buffer | null {
  const input = raw ?? Buffer.alloc(0)
  if (kind === 'json') return transformJsonBody(input, ops, env)
  if (kind === 'form') return transformFormBody(input, ops, env)
  const boundary = boundaryOf(contentType)
  return boundary === null ? null : transformMultipartBody(input, ops, env, boundary)
}

/**
 * Kong's `request-transformer` (priority 801): rewrites the upstream request in Kong's order —
 * `replace.uri`, `http_method`, headers, body, query — each section as remove, rename, replace,
 * add, append. Every entry is split and every template compiled at load; a request pays for the
 * sections it has. The body is read only when the config has body operations (or moves a form
 * body into the query) and the request's Content-Type is JSON, a form or multipart, at most
 * `ctx.maxBody` bytes; it is then sent as `ctx.upstreamBody` with its new Content-Length.
 * Without a body to read the handler stays synchronous.
 *
 * @example
 *   plugins:
 *     - name: request-transformer
 *       config:
 *         add: { headers: ['x-gateway:portico'], querystring: ['version:2'] }
 *         rename: { headers: ['x-user:x-consumer-user'] }
 *         replace: { uri: '/users/$(uri_captures.id)' }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'request-transformer',
  priority: 801,
  schema,
  create(config): PluginInstance {
    const uri = config.replace.uri === undefined ? null : compileTemplate(config.replace.uri)
    const method = config.http_method ?? null
    // Kong moves a form body into the query when the method becomes one without a body
    const formToQuery = method === 'GET' || method === 'HEAD' || method === 'TRACE'
    const headerOps = compileOps(config, 'headers')
    const queryOps = compileOps(config, 'querystring')
    const bodyOps = compileOps(config, 'body')
    const hasHeaders = !isEmpty(headerOps)
    const hasQuery = !isEmpty(queryOps)
    const hasBody = !isEmpty(bodyOps)
    const templated =
      (uri !== null && typeof uri !== 'string') ||
      usesTemplates(headerOps) ||
      usesTemplates(queryOps) ||
      usesTemplates(bodyOps)

    /** Query and body, once the body (if needed) is in hand. */
    const finish = (
      ctx: RequestContext,
      env: TemplateEnv,
      edits: HeaderEdits | null,
      kind: BodyKind,
      contentType: string,
      raw: Buffer | null,
    ): AccessResult => {
      let args: Args | null = null
      let queryChanged = false
      if (formToQuery && kind === 'form' && raw !== null && raw.length > 0) {
        args = decodeArgs(ctx.upstreamQuery)
        for (const [name, value] of decodeArgs(raw.toString('utf8')))
          for (const v of Array.isArray(value) ? value : [value]) appendArg(args, name, v)
        queryChanged = true
      }
      if (hasQuery) {
        args ??= decodeArgs(ctx.upstreamQuery)
        if (transformArgs(args, queryOps, env)) queryChanged = true
      }
      if (queryChanged && args !== null) ctx.upstreamQuery = encodeArgs(args)

      const out = hasBody && kind !== null ? transformBody(raw, kind, contentType, bodyOps, env) : null
      const body = out ?? raw
      // a body read from the client must be sent as a buffer (the stream is consumed)
      if (body !== null) {
        ctx.upstreamBody = body
        ;(edits ??= new Map()).set('content-length', { name: 'content-length', value: String(body.length) })
      }
      applyHeaders(ctx, edits)
      return undefined
    }

    return {
      access(ctx) {
        const env = templated ? templateEnv(ctx) : NO_ENV
        if (uri !== null) ctx.upstreamPath = toPath(render(uri, env))
        if (method !== null) ctx.upstreamMethod = method
        const edits = hasHeaders ? transformHeaders(ctx, headerOps, env) : null
        if (!hasBody && !formToQuery) {
          if (hasQuery) return finish(ctx, env, edits, null, '', null)
          applyHeaders(ctx, edits)
          return undefined
        }
        const edited = edits?.get('content-type')
        const type = edited !== undefined ? edited.value : ctx.header('content-type')
        const contentType = (Array.isArray(type) ? type[0] : type) ?? ''
        const kind = bodyKind(contentType)
        const wantsBody = (hasBody && kind !== null) || (formToQuery && kind === 'form')
        if (!wantsBody || !hasRequestBody(ctx)) return finish(ctx, env, edits, kind, contentType, null)
        return readBody(ctx).then((raw) => finish(ctx, env, edits, kind, contentType, raw))
      },
    }
  },
}
