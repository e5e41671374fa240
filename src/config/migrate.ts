/**
 * Kong 3's on-the-fly migration of declarative files written for Kong 1.x/2.x
 * (`kong/db/declarative/migrations/route_path.lua` with `migrate_path_280_300.lua`): a file with
 * `_format_version` "1.1" or "2.1" is read as "3.0" after every route path that looks like a
 * regex gets the `~` prefix Kong 3 requires (Kong 2 guessed regexes from their characters).
 */

// Kong's `is_not_regex`: only these characters means a plain prefix
const PLAIN_PATH = /^[a-zA-Z0-9.\-_~/%]*$/

// percent-encoded reserved characters stay encoded (upper-cased), regex metacharacters are
// escaped, anything else is decoded: Kong 3 no longer decodes regex paths, so it does it here once
const RESERVED = new Set([
  0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2f, 0x3a, 0x3b, 0x3d, 0x3f, 0x40, 0x5b,
  0x5d,
])
const META: Record<number, string> = {
  46: '\\.',
  94: '\\^',
  45: '\\-',
  123: '\\{',
  125: '\\}',
  92: '\\\\',
  124: '\\|',
}

function normalizeRegex(regex: string): string {
  if (!regex.includes('%')) return regex
  return regex.replace(/%([0-9a-f]{2})/gi, (whole, hex: string) => {
    const code = Number.parseInt(hex, 16)
    if (RESERVED.has(code)) return whole.toUpperCase()
    return META[code] ?? String.fromCharCode(code)
  })
}

/**
 * One route path as Kong 3 migrates it from a 1.1/2.1 file.
 *
 * @example
 *   migratePath('/v1/(.*)') // → '~/v1/(.*)'
 *   migratePath('/users')   // → '/users'
 */
export function migratePath(path: string): string {
  if (path.startsWith('~') || PLAIN_PATH.test(path)) return path
  return `~${normalizeRegex(path)}`
}

function migrateRoutes(routes: unknown): void {
  if (!Array.isArray(routes)) return
  for (const route of routes) {
    if (typeof route !== 'object' || route === null || !Array.isArray(route.paths)) continue
    route.paths = route.paths.map((p: unknown) => (typeof p === 'string' ? migratePath(p) : p))
  }
}

/** Declarative format versions Kong 3 reads; the older ones are migrated to "3.0". */
export const FORMAT_VERSIONS = ['3.0', '2.1', '1.1']

/**
 * Migrates a parsed 1.1/2.1 file to 3.0 in place (top-level routes and routes nested in
 * services, as Kong does); any other version is left alone.
 *
 * @example
 *   const input = { _format_version: '1.1', routes: [{ paths: ['/a$'] }] }
 *   migrateFormat(input) // input.routes[0].paths → ['~/a$'], _format_version → '3.0'
 */
export function migrateFormat(input: Record<string, unknown>): void {
  const version = input._format_version
  if (version !== '1.1' && version !== '2.1') return
  migrateRoutes(input.routes)
  if (Array.isArray(input.services)) {
    for (const service of input.services) {
      if (typeof service === 'object' && service !== null)
        migrateRoutes((service as { routes?: unknown }).routes)
    }
  }
  input._format_version = '3.0'
}
