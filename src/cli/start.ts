import cluster from 'node:cluster'
import { randomBytes } from 'node:crypto'
import { watch } from 'node:fs'
import type { Logger } from '../core/logger.js'
import { defaultKeyPair } from '../data-plane/default-cert.js'
import { type PorticoNode, startNode } from '../main.js'
import { createLogger, type LogLevel } from '../observability/logger.js'
import { resolveSettings, type StartFlags, type StartSettings } from './settings.js'

/** Reload on SIGHUP and, with --watch, when the declarative file changes (debounced). */
function reloadTriggers(node: PorticoNode, settings: StartSettings, log: Logger): () => void {
  const reload = () => {
    node.reload().catch((err: unknown) => log.error({ err }, 'reload failed'))
  }
  process.on('SIGHUP', reload)
  const file = settings.node.declarativeConfig
  if (!settings.watch || file === undefined) return () => process.off('SIGHUP', reload)
  let timer: NodeJS.Timeout | null = null
  // editors replace files (rename): watching the file itself would lose it, so watch and re-arm
  let watcher = watch(file)
  const arm = (): void => {
    watcher.on('change', () => {
      if (timer !== null) clearTimeout(timer)
      timer = setTimeout(() => {
        timer = null
        reload()
        watcher.close()
        try {
          watcher = watch(file)
          arm()
        } catch (err) {
          log.error({ err, file }, 'cannot watch the declarative file any more')
        }
      }, 100)
    })
  }
  arm()
  log.info({ file }, 'watching the declarative file')
  return () => {
    process.off('SIGHUP', reload)
    watcher.close()
  }
}

/** Run one node in this process until SIGTERM/SIGINT, then drain and exit 0. */
export async function runNode(settings: StartSettings, log: Logger): Promise<PorticoNode> {
  const node = await startNode(settings.node, log)
  const unwatch = reloadTriggers(node, settings, log)
  const shutdown = (signal: string) => {
    log.info({ signal }, 'draining')
    unwatch()
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  return node
}

/**
 * What every worker must share on TLS listeners: one default certificate (a self-signed one is
 * made once, here) and one set of session-ticket keys, so a client resumes its session whichever
 * worker takes its next connection.
 */
async function sharedTls(settings: StartSettings): Promise<Record<string, string>> {
  const n = settings.node
  const tls = (n.proxyListen ?? []).some((l) => l.ssl) || n.admin?.ssl === true || n.status?.ssl === true
  if (!tls) return {}
  const pair = await defaultKeyPair(n.ssl.cert, n.ssl.key)
  return {
    PORTICO_SSL_CERT: pair.cert,
    PORTICO_SSL_CERT_KEY: pair.key,
    PORTICO_SSL_TICKET_KEYS: randomBytes(48).toString('hex'),
  }
}

/**
 * `portico start`: one node, or `PORTICO_WORKERS` processes sharing the listeners through
 * node:cluster (signals are forwarded to every worker).
 */
export async function startCommand(flags: StartFlags): Promise<void> {
  const settings = resolveSettings(flags, process.env, process.cwd())
  const log = createLogger({ level: settings.logLevel as LogLevel })
  if (settings.workers > 1 && cluster.isPrimary) {
    const env = await sharedTls(settings)
    for (let i = 0; i < settings.workers; i++) cluster.fork(env)
    for (const sig of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
      process.on(sig, () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig)
      })
    }
    let alive = settings.workers
    cluster.on('exit', () => {
      if (--alive === 0) process.exit(0)
    })
    return
  }
  await runNode(settings, log)
}
