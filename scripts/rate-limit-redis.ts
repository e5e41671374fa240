import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

/** A free TCP port on loopback (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** A redis-server of our own, for the tests and scripts that stop, pause and restart it. */
export interface OwnRedis {
  readonly url: string
  readonly port: number
  /** a plain client for inspection (INFO, CLIENT PAUSE), with an offline queue */
  readonly admin: Redis
  /** kill the server (SIGKILL: no goodbye to the clients) */
  kill(): Promise<void>
  /** start it again on the same port */
  start(): Promise<void>
  /** `CLIENT PAUSE ms ALL`: every client's commands wait */
  pause(ms: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts redis-server on a free port (no persistence) and waits until it answers.
 *
 * @example
 *   const r = await startOwnRedis()
 *   await r.kill(); await r.start(); await r.stop()
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'portico-redis-'))
  let child: ChildProcess | null = null
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    )
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null })
    probe.on('error', () => {})
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect()
        await probe.ping()
        probe.disconnect()
        return
      } catch {
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    probe.disconnect()
    throw new Error(`redis-server did not start on port ${port}`)
  }
  const kill = async (): Promise<void> => {
    const c = child
    child = null
    if (c === null || c.exitCode !== null) return
    await new Promise<void>((r) => {
      c.once('exit', () => r())
      c.kill('SIGKILL')
    })
  }
  await start()
  const admin = new Redis({ port, host: '127.0.0.1' })
  admin.on('error', () => {})
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    admin,
    kill,
    start,
    pause: async (ms) => {
      await admin.call('CLIENT', 'PAUSE', String(ms), 'ALL')
    },
    stop: async () => {
      admin.disconnect()
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
