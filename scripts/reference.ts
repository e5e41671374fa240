import { z } from 'zod'
import { START_OPTIONS } from '../src/cli/settings.js'
import { buildAdminRouter, ControlPlane, UpstreamPolicy } from '../src/control-plane/index.js'
import type { PluginDefinition, PluginRegistry } from '../src/core/plugin.js'
import { DEFAULT_SETTINGS } from '../src/main.js'
import { createLogger } from '../src/observability/logger.js'
import { NodeServices } from '../src/stores/services.js'

// Reference pages generated from the code: one per plugin from its zod schema (docs/plugins/),
// the node settings from `portico start`'s settings table, the Admin API's endpoints from its
// router. Hand-written parts (a plugin's summary, examples, headers and status codes) live in
// docs/plugins/_parts/<name>.md and are merged in.

type Json = {
  type?: string | string[]
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  properties?: Record<string, Json>
  required?: string[]
  items?: Json
  anyOf?: Json[]
  oneOf?: Json[]
  additionalProperties?: Json | boolean
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  pattern?: string
  format?: string
  'x-unsupported'?: boolean
}

/** One configuration field, flattened: `redis.host`, `headers[]`. */
export interface Field {
  path: string
  type: string
  default: string
  allowed: string
  description: string | undefined
  required: boolean
  /** a Kong field Portico refuses (`unsupported()` in the schema) */
  unsupported: boolean
}

/** The JSON Schema of a plugin's `config`, input side, Kong fields Portico refuses marked. */
export function configJsonSchema(schema: z.ZodType): Json {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      // `unsupported()` is a custom check that always fails: the field exists only to refuse it
      const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string } } })._zod.def
      if (def.type === 'custom') ctx.jsonSchema['x-unsupported'] = true
    },
  }) as Json
}

const BIG = Number.MAX_SAFE_INTEGER
const code = (v: unknown): string => `\`${JSON.stringify(v)}\``

function typeName(s: Json): string {
  if (s.anyOf ?? s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeName).join(' \\| ')
  if (s.const !== undefined) return typeof s.const
  if (s.enum) return [...new Set(s.enum.map((v) => typeof v))].join(' \\| ')
  if (s.type === 'array') return `array of ${s.items ? typeName(s.items) : 'any'}`
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return `map of ${typeName(s.additionalProperties)}`
  if (Array.isArray(s.type)) return s.type.join(' \\| ')
  return s.type ?? 'any'
}

function allowed(s: Json): string {
  const parts: string[] = []
  const target = s.type === 'array' && s.items ? s.items : s
  if (target.enum) parts.push(target.enum.map(code).join(', '))
  if (target.const !== undefined) parts.push(`only ${code(target.const)}`)
  if (target.anyOf) {
    const consts = target.anyOf.filter((a) => a.const !== undefined || a.enum)
    if (consts.length > 0) parts.push(consts.flatMap((a) => (a.enum ?? [a.const]).map(code)).join(', '))
  }
  const lo =
    target.minimum ?? (target.exclusiveMinimum === undefined ? undefined : `>${target.exclusiveMinimum}`)
  const hi = target.maximum === undefined || target.maximum >= BIG ? undefined : target.maximum
  if (lo !== undefined && hi !== undefined) parts.push(`${lo}–${hi}`)
  else if (lo !== undefined && lo !== -BIG) parts.push(typeof lo === 'string' ? lo : `≥ ${lo}`)
  else if (hi !== undefined) parts.push(`≤ ${hi}`)
  if (target.minLength) parts.push(`length ≥ ${target.minLength}`)
  if (target.format) parts.push(target.format)
  if (s.type === 'array' && s.minItems) parts.push(`at least ${s.minItems} item${s.minItems > 1 ? 's' : ''}`)
  if (s.type === 'array' && s.maxItems !== undefined) parts.push(`at most ${s.maxItems} items`)
  return parts.join('; ')
}

/** Every field of an object schema, nested objects (and arrays of objects) flattened. */
export function fields(schema: Json, prefix = ''): Field[] {
  const out: Field[] = []
  const required = new Set(schema.required ?? [])
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`
    // a nullable or optional wrapper shows up as anyOf [X, null]: read X
    const nonNull = raw.anyOf?.filter((a) => a.type !== 'null')
    const s =
      nonNull?.length === 1
        ? {
            ...nonNull[0]!,
            description: raw.description ?? nonNull[0]!.description,
            default: raw.default ?? nonNull[0]!.default,
          }
        : raw
    out.push({
      path,
      type: typeName(s),
      default: s.default === undefined ? '' : code(s.default),
      allowed: allowed(s),
      description: s.description,
      required: required.has(name) && s.default === undefined,
      unsupported: s['x-unsupported'] === true,
    })
    if (s.type === 'object' && s.properties) out.push(...fields(s, `${path}.`))
    if (s.type === 'array' && s.items?.type === 'object' && s.items.properties)
      out.push(...fields(s.items, `${path}[].`))
  }
  return out
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

function fieldTable(list: Field[]): string {
  const rows = list
    .filter((f) => !f.unsupported)
    .map(
      (f) =>
        `| \`${f.path}\`${f.required ? ' (required)' : ''} | ${f.type} | ${f.default} | ${cell(f.allowed)} | ${cell(f.description ?? '')} |`,
    )
  return [
    '| field | type | default | allowed values | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}

/** A hand-written part's sections: the summary (before the first heading) and the rest. */
function splitPart(part: string): { summary: string; rest: string } {
  const at = part.search(/^## /m)
  return at < 0
    ? { summary: part.trim(), rest: '' }
    : { summary: part.slice(0, at).trim(), rest: part.slice(at).trim() }
}

/** docs/plugins/<name>.md */
export function pluginPage(
  plugin: PluginDefinition,
  part: string,
  credential?: { entity: string; endpoint: string; schema: z.ZodType; notes: Record<string, string> },
): string {
  const list = fields(configJsonSchema(plugin.schema))
  const credentials =
    credential === undefined
      ? ''
      : `\n## Consumer credentials (\`${credential.entity}\`)\n\nIn the declarative file under a consumer's \`${credential.entity}\`; on the Admin API at \`${credential.endpoint}\`.\n\n${fieldTable(
          fields(configJsonSchema(credential.schema))
            .filter((f) => !['id', 'consumer', 'created_at', 'tags', '_comment', '_ignore'].includes(f.path))
            .map((f) => ({ ...f, description: f.description ?? credential.notes[f.path] })),
        )}\n`
  const refused = list.filter((f) => f.unsupported).map((f) => `\`${f.path}\``)
  const { summary, rest } = splitPart(part)
  return `<!-- GENERATED by \`npm run docs\` from src/plugins/${plugin.name}/schema.ts and docs/plugins/_parts/${plugin.name}.md: edit those, not this page. -->
# ${plugin.name}

${summary}

Priority ${plugin.priority} (higher runs first in the access phase, as in Kong)${plugin.noConsumer ? '; may not be attached to a consumer' : ''}.
Attach it globally, to a service, a route${plugin.noConsumer ? '' : ' or a consumer'} (\`plugins:\` in the declarative file, \`POST /plugins\` on the Admin API).

## Configuration (\`config\`)

${fieldTable(list)}
${refused.length === 0 ? '' : `\nKong fields Portico refuses (a configuration setting them is invalid): ${refused.join(', ')}.\n`}${credentials}
${rest}
`
}

/** docs/settings.md, from `portico start`'s settings table. */
export function settingsPage(part: string): string {
  const rows = Object.entries(START_OPTIONS).map(
    ([flag, o]) =>
      `| \`${o.env}\` | \`--${flag}\` | ${o.type === 'boolean' ? 'on/off' : 'string'} | ${cell(o.help)} |`,
  )
  return `<!-- GENERATED by \`npm run docs\` from src/cli/settings.ts (START_OPTIONS): edit that, not this page. -->
# Node settings

Settings of one gateway node: where it listens, where entities come from, Redis, limits,
observability. Each is a \`portico start\` flag and a \`PORTICO_*\` environment variable (a flag
wins over the variable). Entities (services, routes, consumers, plugins, upstreams) never come
from here: they come from the declarative file and the Admin API (docs/admin.md,
docs/admin-api.md).

| variable | flag | kind | meaning and default |
| --- | --- | --- | --- |
${rows.join('\n')}

Also read: \`REDIS_URL\` when \`PORTICO_REDIS_URL\` is unset. Redis URLs: \`redis://\`, \`rediss://\`
(TLS), \`redis+cluster://h1:p1,h2:p2\`, \`redis+sentinel://h1:p1,h2:p2/master\`.

Fixed defaults not settable by a flag: key prefix \`${DEFAULT_SETTINGS.keyPrefix}\`, Redis call deadline
${DEFAULT_SETTINGS.redisDeadlineMs} ms, longest URL ${DEFAULT_SETTINGS.limits.maxUrlLength} bytes, at most ${DEFAULT_SETTINGS.limits.maxHeaders} request headers, largest header block
${DEFAULT_SETTINGS.server.maxHeaderSize} bytes, client keep-alive ${DEFAULT_SETTINGS.server.keepAliveTimeout} ms.

In the container image (Dockerfile) the proxy listens on \`0.0.0.0:8000\`, the status listener on
\`0.0.0.0:8100\`, the declarative file is \`/app/conf/portico.yaml\` and the drain lasts 20 s.

${part.trim()}
`
}

/** docs/admin-api.md, from the Admin API's router. */
export async function adminApiPage(registry: PluginRegistry): Promise<string> {
  const log = createLogger({ level: 'silent' })
  const services = new NodeServices({ redisUrl: undefined, keyPrefix: 'portico:', redisDeadlineMs: 50 })
  const policy = UpstreamPolicy.parse(undefined)
  const controlPlane = ControlPlane.create({
    mode: 'memory',
    redis: undefined,
    keyPrefix: 'portico:',
    plugins: registry,
    policy,
    log,
    validator: 'docs',
  })
  const router = buildAdminRouter({
    controlPlane,
    plugins: registry,
    services,
    policy,
    log,
    token: undefined,
    node: {
      version: '',
      nodeId: '',
      hostname: '',
      configuration: () => ({}),
      server: async () => ({}),
      health: () => undefined,
    },
  })
  await controlPlane.close()
  await services.close()
  const rows = router.patterns().map((p) => `| \`${p.path}\` | ${p.methods.join(', ')} |`)
  return `<!-- GENERATED by \`npm run docs\` from the Admin API's router (src/control-plane): do not edit. -->
# Admin API reference

Every endpoint of the Admin API (Kong 3.x compatible; default \`127.0.0.1:8001\`, a token required
on any other address). docs/admin.md explains the bodies, status codes, security and config
stores; docs/plugins/ documents each plugin's \`config\`. \`HEAD\` is answered wherever \`GET\` is;
a known path with another method is \`405\`.

| path | methods |
| --- | --- |
${rows.join('\n')}

Plugins available on this build: ${registry
    .names()
    .map((n) => `[${n}](plugins/${n}.md)`)
    .join(', ')}.
`
}
