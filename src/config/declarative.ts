import { LineCounter, parseDocument } from 'yaml'
import type { ConfigIssue } from '../core/entities.js'
import type { PluginRegistry } from '../core/plugin.js'
import { type ValidationResult, validateDocument } from './validate.js'

export interface ParseOptions {
  /** the file's format; detected from the text when absent (JSON starts with `{`) */
  format?: 'yaml' | 'json'
}

export type Parsed = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] }

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (err) {
    return { ok: false, issues: [{ path: '', message: `invalid JSON: ${(err as Error).message}` }] }
  }
}

function parseYaml(text: string): Parsed {
  // duplicate keys are errors (uniqueKeys), and aliases are bounded (maxAliasCount) against
  // "billion laughs" expansion
  const lines = new LineCounter()
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines })
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((err) => {
      const at = lines.linePos(err.pos[0])
      return { path: '', message: `invalid YAML at line ${at.line}, column ${at.col}: ${err.message}` }
    })
    return { ok: false, issues }
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) }
  } catch (err) {
    // yaml throws a ReferenceError once alias expansion passes the bound: a bad input, not a crash
    const message = `invalid YAML: ${(err as Error).message} (aliases may expand to at most 100 nodes each)`
    return { ok: false, issues: [{ path: '', message }] }
  }
}

/**
 * Parses and validates a declarative configuration file in Kong's format (`_format_version:
 * "3.0"`), YAML or JSON, and flattens it into a document. Every issue is reported with the path
 * of the offending field as written in the file (`services[0].routes[1].paths[0]`); the document
 * is null when there is any.
 *
 * @example
 *   const { document, issues } = parseDeclarative(await readFile('kong.yaml', 'utf8'), registry)
 *   for (const issue of issues) console.error(`${issue.path}: ${issue.message}`)
 */
export function parseDeclarative(
  text: string,
  registry: PluginRegistry,
  opts: ParseOptions = {},
): ValidationResult {
  const parsed = parseConfigText(text, opts)
  if (!parsed.ok) return { document: null, issues: parsed.issues }
  if (parsed.value === null || parsed.value === undefined) {
    return {
      document: null,
      issues: [{ path: '', message: 'the configuration is empty: expected _format_version' }],
    }
  }
  return validateDocument(parsed.value, registry)
}

/**
 * The value a declarative file's text holds (YAML or JSON, detected as `parseDeclarative`
 * does), or the syntax issues; nothing is validated.
 *
 * @example
 *   parseConfigText('bobby tables') // → { ok: true, value: 'bobby tables' }
 */
export function parseConfigText(text: string, opts: ParseOptions = {}): Parsed {
  const format = opts.format ?? (text.trimStart().startsWith('{') ? 'json' : 'yaml')
  let parsed = format === 'json' ? parseJson(text) : parseYaml(text)
  if (!parsed.ok && opts.format === undefined && format === 'json') {
    // a guess, not a statement: `{` also opens a YAML flow mapping
    const yaml = parseYaml(text)
    if (yaml.ok) parsed = yaml
  }
  return parsed
}
