import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { request } from 'undici'
import { parseDeclarative, validateDocument } from '../config/index.js'
import { type DiffEntry, diffDocuments } from '../control-plane/diff.js'
import type { ConfigDocument } from '../core/entities.js'
import type { PluginRegistry } from '../core/plugin.js'

export const CONFIG_USAGE = `usage:
  portico config export [--format yaml|json]   print the running node's configuration
  portico config apply FILE                    replace it with a declarative file (validated whole first)
  portico config diff FILE                     what applying FILE would add, remove and change
options:
  --format yaml|json  export format (default yaml)
  --admin-url URL     the node's Admin API (default http://127.0.0.1:8001, or PORTICO_ADMIN_URL)
  --admin-token TOKEN its admin token (or PORTICO_ADMIN_TOKEN)
`

interface Output {
  write(text: string): unknown
}

interface Io {
  stdout: Output
  stderr: Output
  env: NodeJS.ProcessEnv
  registry: PluginRegistry
}

async function admin(
  base: string,
  token: string | undefined,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {}
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/yaml'
  const res = await request(`${base.replace(/\/+$/, '')}${path}`, { method, headers, body })
  return { status: res.statusCode, text: await res.body.text() }
}

function failure(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as {
      message?: string
      flattened_errors?: Array<{
        entity_type: string
        entity_name?: string
        errors: Array<{ field?: string; message: string }>
      }>
    }
    const issues = (body.flattened_errors ?? []).flatMap((e) =>
      e.errors.map((x) => {
        const who = `${e.entity_type}${e.entity_name === undefined ? '' : ` '${e.entity_name}'`}`
        return `  ${who}${x.field === undefined ? '' : ` ${x.field}`}: ${x.message}`
      }),
    )
    return [`the node answered ${status}: ${body.message ?? text}`, ...issues].join('\n')
  } catch {
    return `the node answered ${status}: ${text}`
  }
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/**
 * The diff as text, grouped by kind: `+ added`, `- removed`, `~ changed (field: before → after)`.
 *
 * @example
 *   formatDiff(diffDocuments(a, b)) // 'services:\n  ~ users (port: 80 → 8080)\n1 changed'
 */
export function formatDiff(entries: readonly DiffEntry[]): string {
  if (entries.length === 0) return 'no differences\n'
  const lines: string[] = []
  let kind = ''
  for (const e of entries) {
    if (e.kind !== kind) {
      kind = e.kind
      lines.push(`${kind}:`)
    }
    const mark = e.change === 'added' ? '+' : e.change === 'removed' ? '-' : '~'
    const fields = Object.entries(e.fields ?? {})
      .map(([f, [a, b]]) => `${f}: ${show(a)} → ${show(b)}`)
      .join('; ')
    lines.push(`  ${mark} ${e.name}${fields === '' ? '' : ` (${fields})`}`)
  }
  const count = (c: DiffEntry['change']) => entries.filter((e) => e.change === c).length
  lines.push(`${count('added')} added, ${count('removed')} removed, ${count('changed')} changed`)
  return `${lines.join('\n')}\n`
}

async function readLocal(file: string, io: Io): Promise<{ text: string; doc: ConfigDocument } | undefined> {
  const text = await readFile(file, 'utf8')
  const { document, issues } = parseDeclarative(text, io.registry)
  if (document !== null) return { text, doc: document }
  io.stderr.write(
    `${file} is not valid:\n${issues.map((i) => `  ${i.path || '(file)'}: ${i.message}`).join('\n')}\n`,
  )
  return undefined
}

/**
 * `portico config export|apply|diff` against a running node's Admin API. Exit codes: 0 done (diff:
 * no differences), 1 refused or (diff) differences found, 2 usage or connection trouble.
 *
 * @example
 *   await runConfigCli(['diff', 'kong.yaml', '--admin-url', 'http://10.0.0.5:8001'], io)
 */
export async function runConfigCli(args: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        'admin-url': { type: 'string' },
        'admin-token': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${CONFIG_USAGE}`)
    return 2
  }
  if (parsed.values.help === true) {
    io.stdout.write(CONFIG_USAGE)
    return 0
  }
  const [sub, file, ...extra] = parsed.positionals
  const base = String(parsed.values['admin-url'] ?? io.env.PORTICO_ADMIN_URL ?? 'http://127.0.0.1:8001')
  const token = (parsed.values['admin-token'] as string | undefined) ?? io.env.PORTICO_ADMIN_TOKEN
  const format = String(parsed.values.format ?? 'yaml')
  const needsFile = sub === 'apply' || sub === 'diff'
  if (
    extra.length > 0 ||
    (needsFile ? file === undefined : file !== undefined) ||
    !['yaml', 'json'].includes(format)
  ) {
    io.stderr.write(CONFIG_USAGE)
    return 2
  }
  try {
    switch (sub) {
      case 'export': {
        const res = await admin(base, token, 'GET', `/config?format=${format}`)
        if (res.status !== 200) throw new Error(failure(res.status, res.text))
        io.stdout.write(res.text.endsWith('\n') ? res.text : `${res.text}\n`)
        return 0
      }
      case 'apply': {
        const local = await readLocal(file as string, io)
        if (local === undefined) return 1
        const res = await admin(base, token, 'POST', '/config', local.text)
        if (res.status !== 201) {
          io.stderr.write(`${failure(res.status, res.text)}\n`)
          return 1
        }
        const counts = Object.entries(JSON.parse(res.text) as Record<string, object>)
          .filter(([, v]) => Object.keys(v).length > 0)
          .map(([k, v]) => `${Object.keys(v).length} ${k}`)
        io.stdout.write(`applied ${file}: ${counts.join(', ') || 'an empty configuration'}\n`)
        return 0
      }
      case 'diff': {
        const local = await readLocal(file as string, io)
        if (local === undefined) return 2
        const res = await admin(base, token, 'GET', '/config?format=json')
        if (res.status !== 200) throw new Error(failure(res.status, res.text))
        const running = validateDocument(JSON.parse(res.text), io.registry).document
        if (running === null) throw new Error('the running configuration could not be read back')
        const entries = diffDocuments(running, local.doc)
        io.stdout.write(formatDiff(entries))
        return entries.length === 0 ? 0 : 1
      }
      default:
        io.stderr.write(CONFIG_USAGE)
        return 2
    }
  } catch (err) {
    io.stderr.write(`portico config ${sub}: ${(err as Error).message}\n`)
    return 2
  }
}
