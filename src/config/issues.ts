import type { z } from 'zod'
import type { ConfigIssue } from '../core/entities.js'

/**
 * Appends one step to an issue path: `services[0]` + `routes` → `services[0].routes`, + 1 →
 * `services[0].routes[1]`. Keys that are not plain identifiers (header names with dots) are quoted.
 *
 * @example
 *   joinPath('routes[0].headers', 'x-version') // → 'routes[0].headers.x-version'
 */
export function joinPath(base: string, step: PropertyKey): string {
  if (typeof step === 'number') return `${base}[${step}]`
  const key = String(step)
  const part = /^[A-Za-z0-9_$-]+$/.test(key) ? key : JSON.stringify(key)
  if (base === '') return part
  return part.startsWith('"') ? `${base}[${part}]` : `${base}.${part}`
}

const EXPECTED: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  array: 'an array',
  // Kong's record fields (plugin config, nested settings) say `expected a record`
  object: 'a record',
  record: 'a record',
}

/**
 * Messages in Kong's words for zod's built-in checks. Passed per parse, so plugin schemas get
 * them too without a global setting; messages a schema sets itself take precedence.
 *
 * @example
 *   schema.safeParse(input, { error: errorMap }) // a missing field → 'required field missing'
 */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required field missing'
      // Kong's words: `expected an integer`, `expected a string` (it names no received type);
      // zod reports an int field given a string as a number expected, its format says int
      if (
        issue.expected === 'number' &&
        (issue.inst as { format?: unknown } | undefined)?.format === 'safeint'
      )
        return 'expected an integer'
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}`
    case 'invalid_value':
      return `expected one of: ${issue.values.map((v) => String(v)).join(', ')}`
    case 'too_small':
      // Kong's len_min says `length` for strings and arrays alike
      if (issue.origin === 'array') return `length must be at least ${issue.minimum}`
      if (issue.origin === 'string') return `length must be at least ${issue.minimum}`
      return `value should be ${issue.inclusive === false ? '>' : '>='} ${issue.minimum}`
    case 'too_big':
      if (issue.origin === 'array') return `length must be at most ${issue.maximum}`
      if (issue.origin === 'string') return `length must be at most ${issue.maximum}`
      return `value should be ${issue.inclusive === false ? '<' : '<='} ${issue.maximum}`
    default:
      return undefined
  }
}

/**
 * Turns zod issues into config issues under `base`; an unknown key becomes one
 * `…key: unknown field` issue per key, so every offending field has its own path.
 *
 * @example
 *   toConfigIssues('services[0]', result.error.issues)
 *   // → [{ path: 'services[0].port', message: 'value should be <= 65535' }]
 */
export function toConfigIssues(base: string, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = []
  for (const issue of issues) {
    const path = issue.path.reduce<string>((p, step) => joinPath(p, step), base)
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: joinPath(path, key), message: 'unknown field' })
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // the branch with the fewest issues is the likely intent; zod alone says "invalid input"
      const closest = issue.errors.reduce((a, b) => (b.length < a.length ? b : a))
      out.push(...toConfigIssues(path, closest))
    } else if (issue.code === 'invalid_key') {
      out.push({ path, message: `invalid key: ${issue.issues[0]?.message ?? issue.message}` })
    } else {
      out.push({ path, message: issue.message })
    }
  }
  return out
}
