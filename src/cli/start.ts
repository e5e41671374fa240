import cluster from 'node:cluster'
import { watch } from 'node:fs'
import type { Logger } from '../core/logger.js'
import { type PorticoNode, startNode } from '../main.js'
import { createLogger, type LogLevel } from '../observability/logger.js'
import { createRegistry } from '../plugins/index.js'
import { Primary } from '../workers/primary.js'
import { connectToPrimary } from '../workers/worker.js'
import { resolveSettings, type StartFlags, type StartSettings } from './settings.js'

/** Reload on SIGHUP and, with --watch, when the declarative file changes (debounced). */
function reloadTriggers(reload: () => void, settings: StartSettings, log: Logger): () => void {
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

/**
 * A worker leaves SIGHUP and SIGUSR2 to its primary (a signal to the whole process group must
 * not end it: both end a process by default).
 */
function ignoreNodeSignals(): () => void {
  const ignore = () => {}
  process.on('SIGHUP', ignore)
  process.on('SIGUSR2', ignore)
  return () => {
    process.off('SIGHUP', ignore)
    process.off('SIGUSR2', ignore)
  }
}

/** Run one node in this process until SIGTERM/SIGINT, then drain and exit 0. */
export async function runNode(settings: StartSettings, log: Logger): Promise<PorticoNode> {
  const peers = cluster.isWorker ? connectToPrimary() : null
  const node = await startNode(settings.node, log, createRegistry(), peers)
  // a worker reloads when its primary says so (the primary owns SIGHUP and --watch)
  const unwatch =
    peers === null
      ? reloadTriggers(
          () => {
            node.reload().catch((err: unknown) => log.error({ err }, 'reload failed'))
          },
          settings,
          log,
        )
      : ignoreNodeSignals()
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
  // a worker whose primary is gone drains and leaves (no orphan holding the ports)
  if (peers !== null) process.once('disconnect', () => shutdown('primary gone'))
  return node
}

/**
 * `portico start`: one node in this process, or with `--workers N|auto` a primary process and
 * N workers sharing the listeners through node:cluster, acting as one node (`src/workers/`):
 * one configuration, node-wide limits, one `/metrics`. SIGTERM drains every worker, SIGHUP
 * reloads them, SIGUSR2 replaces them one at a time.
 */
export async function startCommand(flags: StartFlags): Promise<void> {
  const settings = resolveSettings(flags, process.env, process.cwd())
  const log = createLogger({ level: settings.logLevel as LogLevel })
  if (settings.workers > 1 && cluster.isPrimary) {
    const primary = new Primary({
      workers: settings.workers,
      configStore: settings.node.configStore,
      registry: createRegistry(),
      log: log.child({ part: 'primary' }),
    })
    primary.start()
    // SIGHUP is the primary's (installed by start); --watch triggers the same reload
    if (settings.watch) reloadTriggers(() => primary.reload(), { ...settings }, log)
    return
  }
  await runNode(settings, log)
}
