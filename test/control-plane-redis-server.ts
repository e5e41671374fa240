import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sleep } from './helpers.js'

export interface PrivateRedis {
  url: string
  port: number
  start(): Promise<void>
  /** kills the server (SIGKILL: nothing is saved, as when a host dies) */
  stop(): Promise<void>
  /** stops it and removes its directory */
  close(): Promise<void>
}

/** A private redis-server on a free port that the test can stop and start again. */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const dir = mkdtempSync(join(tmpdir(), 'portico-redis-'))
  let child: ChildProcess | null = null
  // up once it answers PING
  const ping = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.setTimeout(500, () => socket.destroy())
      socket.once('connect', () => socket.write('PING\r\n'))
      socket.once('data', (d) => {
        socket.destroy()
        resolve(d.toString().startsWith('+PONG'))
      })
      socket.once('error', () => resolve(false))
      socket.once('close', () => resolve(false))
    })
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      {
        stdio: 'ignore',
      },
    )
    for (let i = 0; i < 100 && !(await ping()); i++) await sleep(50)
  }
  const stop = async () => {
    const c = child
    child = null
    if (c === null || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
  }
  await start()
  const close = async () => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return { url: `redis://127.0.0.1:${port}`, port, start, stop, close }
}
