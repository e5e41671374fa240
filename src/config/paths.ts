import { linearRegexError } from '../core/linear-regex.js'

// RFC 3986 unreserved, sub-delims, ':', '@', '/' and '%' (checked separately): what Kong accepts.
const PATH_CHARS = /^\/[A-Za-z0-9._~/%:@!$&'()*+,;=-]*$/
const UNRESERVED = /[A-Za-z0-9._~-]/

/**
 * Validates a plain URL path (service `path`, health check `http_path`, cookie path).
 * Returns the error message, or undefined when the path is valid.
 *
 * @example
 *   checkPath('/api/v1')  // → undefined
 *   checkPath('/a//b')    // → 'must not have empty segments'
 */
export function checkPath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'should start with: /'
  if (path.includes('//')) return 'must not have empty segments'
  if (!PATH_CHARS.test(path)) {
    return `invalid path: '${path}' (characters outside of the reserved list of RFC 3986 found)`
  }
  const stray = /%(?![0-9A-Fa-f]{2})/.exec(path)
  if (stray) return `invalid url-encoded value: '${path.slice(stray.index, stray.index + 3)}'`
  return undefined
}

/**
 * Validates a route `paths` entry: a normalised prefix (`/api`) or a regex (`~/users/\d+$`)
 * that compiles.
 *
 * @example
 *   checkRouterPath('~/users/(?<id>\\d+)$') // → undefined
 *   checkRouterPath('/a/../b')              // → "non-normalized path, consider use '/b' instead"
 */
export function checkRouterPath(path: string): string | undefined {
  if (!path.startsWith('/') && !path.startsWith('~/')) {
    return 'should start with: / (fixed path) or ~/ (regex path)'
  }
  if (path.includes('//')) return 'must not have empty segments'
  if (path.startsWith('~')) {
    // compiled exactly as the router will (grouped and anchored), on the same linear-time engine
    const source = path.slice(1)
    const error = linearRegexError(`^(?:${source})`)
    return error === undefined ? undefined : `invalid regex: '${source}': ${error}`
  }
  const invalid = checkPath(path)
  if (invalid !== undefined) return invalid
  const normalized = normalizePath(path)
  return normalized === path ? undefined : `non-normalized path, consider use '${normalized}' instead`
}

/**
 * The normal form the router matches against: percent-encoded unreserved characters decoded,
 * other escapes upper-cased, dot segments removed (RFC 3986 §6.2.2).
 *
 * @example
 *   normalizePath('/a/./b/../%7euser') // → '/a/~user'
 */
export function normalizePath(path: string): string {
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : encoded.toUpperCase()
  })
  return removeDotSegments(decoded)
}

function removeDotSegments(path: string): string {
  const segments = path.split('/')
  const out: string[] = []
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string
    const last = i === segments.length - 1
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop()
      // `/a/..` ends in a directory: keep the trailing slash
      if (last) out.push('')
      continue
    }
    out.push(segment)
  }
  return `/${out.join('/')}`
}
