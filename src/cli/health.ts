import { resolveSettings } from './settings.js'

/**
 * `portico health`: asks this node's status listener (`PORTICO_STATUS_LISTEN`, as `portico
 * start` reads it) for `/healthz`; exit 0 when it answers 200. The container image's
 * HEALTHCHECK, so the probe follows the listener wherever the settings put it.
 */
export async function runHealth(
  env: NodeJS.ProcessEnv,
  cwd: string,
  err: NodeJS.WritableStream,
): Promise<number> {
  const { node } = resolveSettings({}, env, cwd)
  if (node.status === null) {
    err.write('the status listener is off (PORTICO_STATUS_LISTEN=off): nothing to ask\n')
    return 1
  }
  const { host, port } = node.status
  // a wildcard bind answers on loopback
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  try {
    const res = await fetch(`http://${target}:${port}/healthz`, { signal: AbortSignal.timeout(3000) })
    await res.arrayBuffer()
    if (res.status === 200) return 0
    err.write(`/healthz answered ${res.status}\n`)
  } catch (e) {
    err.write(`/healthz: ${(e as Error).message}\n`)
  }
  return 1
}
