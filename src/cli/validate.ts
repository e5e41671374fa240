import { readFile } from 'node:fs/promises'
import { parseDeclarative } from '../config/declarative.js'
import type { ConfigDocument } from '../core/entities.js'
import type { PluginRegistry } from '../core/plugin.js'

const LABELS: Array<[keyof ConfigDocument, string, string]> = [
  ['services', 'service', 'services'],
  ['routes', 'route', 'routes'],
  ['consumers', 'consumer', 'consumers'],
  ['plugins', 'plugin', 'plugins'],
  ['upstreams', 'upstream', 'upstreams'],
  ['targets', 'target', 'targets'],
  ['keyauth_credentials', 'key-auth credential', 'key-auth credentials'],
  ['jwt_secrets', 'jwt secret', 'jwt secrets'],
  ['basicauth_credentials', 'basic-auth credential', 'basic-auth credentials'],
  ['acls', 'acl', 'acls'],
]

function summary(doc: ConfigDocument): string {
  return LABELS.map(([kind, one, many]) => `${doc[kind].length} ${doc[kind].length === 1 ? one : many}`).join(
    ', ',
  )
}

/**
 * `portico validate FILE`: checks a declarative file and prints `ok: …` with what it holds, or
 * every issue as `path: message` (issues about the whole file are prefixed with its name).
 * Returns the exit code: 0 when valid, 1 otherwise (also when the file cannot be read).
 *
 * @example
 *   process.exitCode = await runValidate('kong.yaml', registry, process.stdout)
 */
export async function runValidate(
  file: string,
  registry: PluginRegistry,
  out: NodeJS.WritableStream,
): Promise<number> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message
    out.write(`${file}: cannot read the file: ${reason}\n`)
    return 1
  }
  const format = /\.json$/i.test(file) ? 'json' : /\.ya?ml$/i.test(file) ? 'yaml' : undefined
  const { document, issues } = parseDeclarative(text, registry, format ? { format } : {})
  if (document === null) {
    for (const issue of issues) out.write(`${issue.path === '' ? file : issue.path}: ${issue.message}\n`)
    return 1
  }
  out.write(`ok: ${summary(document)}\n`)
  return 0
}
