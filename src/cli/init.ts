import { existsSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

/**
 * The starter declarative file `portico init` writes: valid as it is (a test loads it), every
 * line a user is likely to change commented, the rest of the format one link away.
 */
export const STARTER = `# portico.yaml — a Portico declarative configuration (Kong's format, _format_version 3.0).
# \`portico start\` loads ./portico.yaml; \`portico validate portico.yaml\` checks it and prints
# every error with its path. Reference: docs/plugins/<name>.md, docs/settings.md, docs/admin.md.
_format_version: "3.0"

services:
  # An upstream service: where matching requests are proxied. \`url\` sets protocol, host, port
  # and path at once; timeouts are in milliseconds (Kong's defaults: 60000).
  - name: example
    url: http://127.0.0.1:8080
    read_timeout: 10000
    routes:
      # A route: which requests reach the service. \`strip_path\` (default true) removes the
      # matched prefix before proxying: GET /example/items → GET /items upstream.
      - name: example
        paths: [/example]
        plugins:
          # 10 requests per second and 300 per minute per client IP; 429 with Retry-After
          # beyond. \`policy: redis\` shares the counters between nodes (needs PORTICO_REDIS_URL).
          - name: rate-limiting
            config: { second: 10, minute: 300, limit_by: ip, policy: local }
          # Uncomment to require an API key (header \`apikey\`), then add a consumer below.
          # - name: key-auth
          #   config: { key_names: [apikey], hide_credentials: true }

# Consumers: who calls the API, with their credentials (used by key-auth, jwt, basic-auth, acl).
# consumers:
#   - username: alice
#     keyauth_credentials: [{ key: change-me }]

# Plugins on every route: request metrics on /metrics (status listener, 127.0.0.1:8100).
plugins:
  - name: prometheus
    config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true }
`

/** What to run next, printed after the file is written. */
function nextSteps(file: string): string {
  return `wrote ${file}

next:
  portico validate ${file}        # check it
  portico start                   # proxy on :8000, Admin API on 127.0.0.1:8001, status on 127.0.0.1:8100
  curl -s http://127.0.0.1:8100/healthz
  curl -s http://127.0.0.1:8000/example        # proxied to http://127.0.0.1:8080
  curl -s http://127.0.0.1:8001/services       # the Admin API (Kong's)
  portico --help                  # every command and PORTICO_* setting
`
}

/**
 * `portico init [FILE] [--force]`: writes the starter (default ./portico.yaml) and prints the
 * next commands; refuses to overwrite an existing file without --force.
 */
export function runInit(
  args: string[],
  cwd: string,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  const force = args.includes('--force')
  const names = args.filter((a) => a !== '--force')
  if (names.length > 1 || names.some((a) => a.startsWith('-'))) {
    err.write('usage: portico init [FILE] [--force]\n')
    return 2
  }
  const name = names[0] ?? 'portico.yaml'
  const file = resolve(cwd, name)
  if (existsSync(file) && !force) {
    err.write(`${name} exists already: keeping it (portico init ${name} --force overwrites it)\n`)
    return 1
  }
  writeFileSync(file, STARTER)
  out.write(nextSteps(name))
  return 0
}
