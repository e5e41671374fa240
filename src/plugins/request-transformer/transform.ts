import type { RequestContext } from '../../core/context.js'
import { type Args, type ArgValue, decodeArgs, encodeArgs } from '../kit/transform/args.js'
import { appendValue, put } from '../kit/transform/values.js'
import { render, type TemplateEnv, type TemplateValue } from './template.js'

/**
 * One entry: the name (lower-case for headers, which match whatever the case), its value, and
 * the name as the config spells it when that differs (a header added or appended goes upstream so).
 */
export type Entry = [name: string, value: TemplateValue, spelled?: string]

/** One section of the config (headers, querystring or body) compiled at load. */
export interface Ops {
  remove: string[]
  rename: Entry[]
  replace: Entry[]
  add: Entry[]
  append: Entry[]
}

export function isEmpty(ops: Ops): boolean {
  return ops.remove.length + ops.rename.length + ops.replace.length + ops.add.length + ops.append.length === 0
}

/**
 * Header edits collected before they are applied: lower-case name → the name to send (as the
 * config spells it) and its values, or null to remove.
 */
export type HeaderEdits = Map<string, { name: string; value: string | string[] | null }>

// A rendered template may carry what the client put in a header or a query argument: never let
// it split a header line.
const HEADER_UNSAFE = /[\r\n\0]/g
function headerValue(value: TemplateValue, env: TemplateEnv): string {
  return typeof value === 'string' ? value : value(env).replace(HEADER_UNSAFE, '')
}

/**
 * Kong's `transform_headers` over the request as it reached the plugin: remove, rename, replace
 * (Host included), add (never Host), append. Returns the edits; the caller applies them once
 * every template has been rendered (templates read the headers from before the transformation).
 */
export function transformHeaders(ctx: RequestContext, ops: Ops, env: TemplateEnv): HeaderEdits {
  const edits: HeaderEdits = new Map()
  const current = (name: string): string | string[] | undefined => {
    const e = edits.get(name)?.value
    if (e !== undefined) return e === null ? undefined : e
    if (name === 'host') return undefined // Kong drops Host from the table it edits
    const earlier = ctx.upstreamHeaderEdits?.get(name)
    if (earlier !== undefined) return earlier === null ? undefined : earlier
    return ctx.req.headers[name]
  }
  for (const name of ops.remove) if (current(name) !== undefined) edits.set(name, { name, value: null })
  for (const [from, to, spelled] of ops.rename) {
    const target = render(to, env)
    const v = current(from)
    if (target === (spelled ?? from) || v === undefined) continue
    const lower = target.toLowerCase()
    // Kong: a rename that changes only the case sends the new spelling; another name goes
    // lower-case (access.lua `rename`)
    if (lower === from) edits.set(from, { name: target, value: v })
    else {
      edits.set(lower, { name: lower, value: v })
      edits.set(from, { name: from, value: null })
    }
  }
  for (const [name, value] of ops.replace)
    if (current(name) !== undefined || name === 'host')
      edits.set(name, { name, value: headerValue(value, env) })
  for (const [name, value, spelled] of ops.add)
    if (current(name) === undefined && name !== 'host')
      edits.set(name, { name: spelled ?? name, value: headerValue(value, env) })
  for (const [name, value, spelled] of ops.append) {
    if (name === 'host') continue
    const cur = current(name)
    const copy = Array.isArray(cur) ? [...cur] : cur
    edits.set(name, { name: spelled ?? name, value: appendValue(copy, headerValue(value, env)) as string[] })
  }
  return edits
}

/** Applies remove/rename/replace/add/append to query or form arguments; true when any changed. */
export function transformArgs(args: Args, ops: Ops, env: TemplateEnv, existing = true): boolean {
  let changed = false
  if (existing) {
    for (const name of ops.remove) if (args.delete(name)) changed = true
    for (const [from, to] of ops.rename) {
      const target = render(to, env)
      const v = args.get(from)
      if (target === from || v === undefined) continue
      args.delete(from)
      args.set(target, v)
      changed = true
    }
    for (const [name, value] of ops.replace) {
      if (!args.has(name)) continue
      args.set(name, render(value, env))
      changed = true
    }
  }
  for (const [name, value] of ops.add) {
    if (args.has(name)) continue
    args.set(name, render(value, env))
    changed = true
  }
  for (const [name, value] of ops.append) {
    args.set(name, appendValue(args.get(name), render(value, env)) as ArgValue)
    changed = true
  }
  return changed
}

/**
 * Kong's `transform_json_body`: an empty body starts as `{}` (add and append still apply); a
 * body that is not a JSON object is left alone (null). `replace` needs a value that is there
 * and not false, `add` one that is absent or false.
 */
export function transformJsonBody(raw: Buffer, ops: Ops, env: TemplateEnv): Buffer | null {
  let o: Record<string, unknown>
  if (raw.length === 0) o = {}
  else {
    let doc: unknown
    try {
      doc = JSON.parse(raw.toString('utf8'))
    } catch {
      return null
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null
    o = doc as Record<string, unknown>
  }
  const has = (name: string): boolean => Object.hasOwn(o, name) && o[name] !== false
  let changed = false
  if (raw.length > 0) {
    for (const name of ops.remove) {
      if (!Object.hasOwn(o, name)) continue
      delete o[name]
      changed = true
    }
    for (const [from, to] of ops.rename) {
      const target = render(to, env)
      if (target === from || !has(from)) continue
      const v = o[from]
      delete o[from]
      put(o, target, v)
      changed = true
    }
    for (const [name, value] of ops.replace) {
      if (!has(name)) continue
      put(o, name, render(value, env))
      changed = true
    }
  }
  for (const [name, value] of ops.add) {
    if (has(name)) continue
    put(o, name, render(value, env))
    changed = true
  }
  for (const [name, value] of ops.append) {
    put(o, name, appendValue(Object.hasOwn(o, name) ? o[name] : undefined, render(value, env)))
    changed = true
  }
  return changed ? Buffer.from(JSON.stringify(o)) : null
}

/** Kong's `transform_url_encoded_body`. */
export function transformFormBody(raw: Buffer, ops: Ops, env: TemplateEnv): Buffer | null {
  const args = decodeArgs(raw.toString('utf8'))
  return transformArgs(args, ops, env, raw.length > 0) ? Buffer.from(encodeArgs(args)) : null
}

/** The body types Kong transforms. */
export type BodyKind = 'json' | 'form' | 'multipart' | null

export function bodyKind(contentType: string | string[] | null | undefined): BodyKind {
  if (contentType === undefined || contentType === null) return null
  const t = (Array.isArray(contentType) ? contentType[0]! : contentType).toLowerCase()
  if (t.includes('application/json')) return 'json'
  if (t.includes('multipart/form-data')) return 'multipart'
  if (t.includes('application/x-www-form-urlencoded')) return 'form'
  return null
}
