import { type ConfigDocument, type ConfigIssue, emptyDocument } from '../core/entities.js'
import type { PluginRegistry } from '../core/plugin.js'
import { collect, type Item, KINDS, SPECS } from './collect.js'
import { withoutNulls } from './fields.js'
import { errorMap, joinPath, toConfigIssues } from './issues.js'
import { link } from './link.js'
import { FORMAT_VERSIONS, migrateFormat } from './migrate.js'
import { hashPassword, isPasswordHash } from './password.js'
import { requiredNulls } from './required-nulls.js'
import { checkUniqueness } from './unique.js'

export { exportDeclarative, toDeclarative } from './export.js'

/** The outcome of validating a configuration: a document only when there is no issue at all. */
export interface ValidationResult {
  document: ConfigDocument | null
  issues: ConfigIssue[]
}

// Kong entities a Kong file may hold that Portico does not implement: say so rather than "unknown".
const KONG_ONLY = new Set([
  'vaults',
  'keys',
  'key_sets',
  'filter_chains',
  'workspaces',
  'consumer_groups',
  'hmacauth_credentials',
  'oauth2_credentials',
  'oauth2_authorization_codes',
  'oauth2_tokens',
  'mtls_auth_credentials',
])

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Checks the keys that are not entity lists; returns `_transform` (default true). */
function checkTopLevel(input: Record<string, unknown>, issues: ConfigIssue[]): boolean {
  const version = input._format_version
  if (version === undefined || version === null) {
    issues.push({ path: '_format_version', message: 'required field missing: expected "3.0"' })
  } else if (typeof version !== 'string') {
    issues.push({ path: '_format_version', message: 'expected a string: write "3.0", in quotes' })
  } else if (!FORMAT_VERSIONS.includes(version)) {
    issues.push({
      path: '_format_version',
      message: `expected one of: ${FORMAT_VERSIONS.slice().reverse().join(', ')}`,
    })
  }
  const checks: Record<string, [(v: unknown) => boolean, string]> = {
    _transform: [(v) => typeof v === 'boolean', 'expected a boolean'],
    _comment: [(v) => typeof v === 'string', 'expected a string'],
    _ignore: [Array.isArray, 'expected a list'],
    // decK's keys: `_info` (select_tags, defaults) and `_workspace` are decK's business; Kong
    // OSS has the one workspace `default`
    _info: [isRecord, 'expected an object'],
    _workspace: [(v) => v === 'default', "expected 'default': Portico has no other workspace"],
  }
  for (const [key, [valid, message]] of Object.entries(checks)) {
    if (input[key] !== undefined && input[key] !== null && !valid(input[key]))
      issues.push({ path: key, message })
  }
  for (const key of Object.keys(input)) {
    if (key === '_format_version' || key in checks || (KINDS as readonly string[]).includes(key)) continue
    const message = KONG_ONLY.has(key) ? `'${key}' entities are not supported by Portico` : 'unknown field'
    issues.push({ path: key, message })
  }
  return input._transform !== false
}

/**
 * The entities each registry's validation has returned. Validation gives such an entity back
 * unchanged (every schema is idempotent on its own output, which `validate.test.ts` checks), so
 * when one comes back as input, as all but the written entity of an Admin API write do (the
 * draft shares the stored objects, which nothing mutates), its schemas are not run again.
 * References, uniqueness, scopes and passwords are still checked across the whole document.
 */
const validated = new WeakMap<PluginRegistry, WeakSet<object>>()

function parseItem(item: Item, registry: PluginRegistry, issues: ConfigIssue[]): void {
  if (validated.get(registry)?.has(item.source) === true) {
    item.value = item.raw
    return
  }
  const result = SPECS[item.kind].schema.safeParse(item.raw, { error: errorMap })
  if (result.success) item.value = result.data as Record<string, unknown>
  else issues.push(...toConfigIssues(item.path, result.error.issues))
  if (item.kind !== 'plugins' || typeof item.raw.name !== 'string') return

  const definition = registry.get(item.raw.name)
  if (definition === undefined) {
    const known = registry.names().join(', ')
    issues.push({
      path: joinPath(item.path, 'name'),
      message: `unknown plugin '${item.raw.name}' (known: ${known})`,
    })
    item.value = undefined
    return
  }
  const config = withoutNulls(item.raw.config ?? {})
  if (!isRecord(config)) return // the entity schema reported it
  // an explicit null where the config must have a value is Kong's `required field missing`
  const nulls = requiredNulls(definition.schema, item.raw.config, joinPath(item.path, 'config'))
  const parsed = definition.schema.safeParse(config, { error: errorMap })
  if (!parsed.success || nulls.length > 0) {
    // a check on the config as a whole (rate-limiting's "at least one of these fields") is
    // the plugin entity's, as Kong's entity_checks report it (`@entity`)
    const all = parsed.success ? [] : parsed.error.issues
    const whole = all.filter((i) => i.path.length === 0 && i.code === 'custom')
    const fields = all.filter((i) => !whole.includes(i))
    issues.push(
      ...nulls,
      ...toConfigIssues(item.path, whole),
      ...toConfigIssues(joinPath(item.path, 'config'), fields),
    )
    item.value = undefined
  } else if (!isRecord(parsed.data)) {
    issues.push({
      path: joinPath(item.path, 'config'),
      message: `plugin '${definition.name}' produced a non-object config`,
    })
    item.value = undefined
  } else if (item.value !== undefined) {
    item.value = { ...item.value, config: parsed.data }
  }
}

/** Kong's `no_consumer`: an auth plugin identifies the consumer, so it cannot be scoped to one. */
function checkPluginScopes(items: Item[], registry: PluginRegistry, issues: ConfigIssue[]): void {
  for (const item of items) {
    if (item.kind !== 'plugins' || item.resolved.consumer === undefined) continue
    const name = String(item.raw.name)
    const no = registry.get(name)?.noConsumer
    if (no === undefined || no === false) continue
    const path = item.refs.consumer === undefined ? item.path : joinPath(item.path, 'consumer')
    const why = typeof no === 'string' ? `: ${no}` : ''
    issues.push({ path, message: `plugin '${name}' cannot be applied to a consumer${why}` })
  }
}

/** A service's `ca_certificates` name CA certificates of the document (Kong checks them on use). */
function checkCaReferences(items: Item[], issues: ConfigIssue[]): void {
  const cas = new Set(items.filter((i) => i.kind === 'ca_certificates').map((i) => i.id.toLowerCase()))
  for (const item of items) {
    const list = item.kind === 'services' ? item.value?.ca_certificates : undefined
    if (!Array.isArray(list)) continue
    list.forEach((id, n) => {
      if (!cas.has(String(id).toLowerCase()))
        issues.push({
          path: joinPath(joinPath(item.path, 'ca_certificates'), n),
          message: `invalid reference '${String(id)}': no such entry in 'ca_certificates'`,
        })
    })
  }
}

function checkPasswords(items: Item[], transform: boolean, issues: ConfigIssue[]): void {
  if (transform) return
  for (const item of items) {
    const password = item.value?.password
    if (item.kind === 'basicauth_credentials' && typeof password === 'string' && !isPasswordHash(password)) {
      issues.push({
        path: joinPath(item.path, 'password'),
        message: 'with _transform: false the password must already be hashed (scrypt$…, as exported)',
      })
    }
  }
}

function assemble(items: Item[], transform: boolean, registry: PluginRegistry): ConfigDocument {
  const document = emptyDocument()
  let seen = validated.get(registry)
  if (seen === undefined) validated.set(registry, (seen = new WeakSet()))
  for (const item of items) {
    const { id: _given, ...fields } = item.value as Record<string, unknown>
    if (item.kind === 'basicauth_credentials' && transform) {
      fields.password = hashPassword(String(fields.password), item.id)
    }
    const refs = Object.fromEntries(Object.entries(item.resolved).map(([field, id]) => [field, { id }]))
    const entity = { id: item.id, ...fields, ...refs }
    seen.add(entity)
    ;(document[item.kind] as unknown[]).push(entity)
  }
  return document
}

/**
 * Takes a document as validated by this registry without running it through validation: one
 * that the same code with the same plugins validated elsewhere (a stored document written by a
 * node of the same version). Its entities are then skipped by the schemas as if validated here.
 *
 * @example
 *   if (stored.validator === mine) adoptValidated(stored.doc, registry)
 */
export function adoptValidated(doc: ConfigDocument, registry: PluginRegistry): void {
  let seen = validated.get(registry)
  if (seen === undefined) validated.set(registry, (seen = new WeakSet()))
  for (const list of Object.values(doc) as object[][]) for (const entity of list) seen.add(entity)
}

/**
 * Validates an already-parsed declarative configuration (Kong's format, nested or flat) and
 * flattens it into the document every other part of Portico reads. Collects every issue, each
 * with the path of the offending field as written. Plugin configs are validated and defaulted
 * by each plugin's schema. Ids missing from the input are derived from names or positions, so
 * the same input always gives the same ids. Basic-auth passwords are hashed unless
 * `_transform: false` says they already are (as in an export).
 *
 * @example
 *   const { document, issues } = validateDocument(JSON.parse(body), registry)
 *   if (document === null) return reply(400, { fields: issues })
 */
export function validateDocument(input: unknown, registry: PluginRegistry): ValidationResult {
  if (!isRecord(input)) {
    const message = 'expected an object with _format_version and entity lists'
    return { document: null, issues: [{ path: '', message }] }
  }
  let file: Record<string, unknown> = input
  if (file._format_version === '1.1' || file._format_version === '2.1') {
    file = structuredClone(file)
    migrateFormat(file)
  }
  const issues: ConfigIssue[] = []
  const transform = checkTopLevel(file, issues)
  const items = collect(file, issues)
  for (const item of items) parseItem(item, registry, issues)
  link(items, issues)
  checkUniqueness(items, issues)
  checkPluginScopes(items, registry, issues)
  checkCaReferences(items, issues)
  checkPasswords(items, transform, issues)
  if (issues.length > 0) return { document: null, issues }
  return { document: assemble(items, transform, registry), issues }
}
