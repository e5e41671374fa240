import { pino } from 'pino'
import type { Logger } from '../core/logger.js'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/**
 * The node's logger: pino, JSON lines on stdout (or a file), level from `PORTICO_LOG_LEVEL`.
 *
 * @example
 *   const log = createLogger({ level: 'info' })
 *   log.info({ port: 8000 }, 'proxy listening')
 */
export function createLogger(opts: { level?: LogLevel; file?: string | undefined } = {}): Logger {
  const destination = opts.file ? pino.destination({ dest: opts.file, sync: false, mkdir: true }) : undefined
  const base = { name: 'portico', level: opts.level ?? 'info' }
  return (destination ? pino(base, destination) : pino(base)) as unknown as Logger
}
