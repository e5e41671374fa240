import type { RequestContext } from '../../core/context.js'
import type { PluginDefinition, PluginInstance, ResponseHead } from '../../core/plugin.js'
import { splitPair } from '../kit/transform/pairs.js'
import { compileJsonEntries, type JsonOps, transformJson } from './json.js'
import { type Config, schema } from './schema.js'

type Headers = Record<string, string | string[]>

/** `Name:value` entries → lower-case name and value; entries without a value do nothing in Kong. */
function headerPairs(entries: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const e of entries) {
    const { name, value } = splitPair(e)
    if (value !== '') out.push([name.toLowerCase(), value])
  }
  return out
}

/** Kong's `is_json_body`: the Content-Type mentions application/json. */
function isJson(h: Headers): boolean {
  const t = h['content-type']
  const s = Array.isArray(t) ? t[0] : t
  return s?.toLowerCase().includes('application/json') === true
}

/** A body the transformer can read: JSON, not compressed, and a response that has a body. */
function transformable(ctx: RequestContext, head: ResponseHead): boolean {
  if (ctx.method === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) return false
  const enc = head.headers['content-encoding']
  if (enc !== undefined && enc !== 'identity') return false
  return isJson(head.headers)
}

/**
 * Kong's `response-transformer` (priority 800): header operations in the response phase
 * (remove, rename, replace, add, append, in Kong's order); JSON body operations on JSON
 * responses only, by asking the data plane to buffer the body (`head.buffer`) and rewriting it
 * in the `body` hook, Content-Length following. Every entry is split and typed at load. Without
 * JSON operations the instance has no body hook and never buffers.
 *
 * @example
 *   plugins:
 *     - name: response-transformer
 *       config: { remove: { headers: [server], json: [internal_id] }, add: { headers: ['x-api:v2'] } }
 */
export const plugin: PluginDefinition<Config> = {
  name: 'response-transformer',
  priority: 800,
  schema,
  create(config): PluginInstance {
    const removeHeaders = config.remove.headers.map((n) => n.toLowerCase())
    const renameHeaders = headerPairs(config.rename.headers)
    const replaceHeaders = headerPairs(config.replace.headers)
    const addHeaders = headerPairs(config.add.headers)
    const appendHeaders = headerPairs(config.append.headers)
    const json: JsonOps = {
      remove: config.remove.json,
      rename: config.rename.json
        .map((e) => splitPair(e))
        .filter((p) => p.value !== '' && p.value !== p.name)
        .map((p): [string, string] => [p.name, p.value]),
      replace: compileJsonEntries(config.replace.json, config.replace.json_types),
      add: compileJsonEntries(config.add.json, config.add.json_types),
      append: compileJsonEntries(config.append.json, config.append.json_types),
    }
    const hasJson =
      json.remove.length + json.rename.length + json.replace.length + json.add.length + json.append.length > 0

    const instance: PluginInstance = {
      response(ctx, head) {
        const h = head.headers
        for (const name of removeHeaders) delete h[name]
        for (const [from, to] of renameHeaders) {
          const v = h[from]
          if (v === undefined) continue
          delete h[from]
          h[to] = v
        }
        for (const [name, value] of replaceHeaders) if (h[name] !== undefined) h[name] = value
        for (const [name, value] of addHeaders) if (h[name] === undefined) h[name] = value
        for (const [name, value] of appendHeaders) {
          const prev = h[name]
          h[name] = prev === undefined ? value : ([] as string[]).concat(prev, value)
        }
        if (hasJson && transformable(ctx, head)) head.buffer = true
      },
    }
    if (hasJson) {
      instance.body = (ctx, head, body) => {
        // another plugin may have asked for the body: transform only what this one would
        if (!transformable(ctx, head)) return undefined
        const out = transformJson(body.toString('utf8'), json)
        return out === null ? undefined : Buffer.from(out)
      }
    }
    return instance
  },
}
