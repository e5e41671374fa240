import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { call, type Upstream, upstream, writeConfig } from '../fixtures/helpers.js'

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url))
const MB = 1024 * 1024

/** Starts `portico start` as a child process on port 0; resolves with its proxy port. */
export async function startProcess(config: string, extraArgs: string[] = []) {
  const file = writeConfig(config)
  const child = spawn(
    process.execPath,
    [
      BIN,
      'start',
      '--config',
      file,
      '--proxy-listen',
      '127.0.0.1:0',
      '--status-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      // one process: these tests read its memory and signal its pid (workers: test/workers/)
      '--workers',
      '1',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORTICO_LOG_LEVEL: 'info' } },
  )
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /"proxy":\{"host":"[^"]+","port":(\d+)\}/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${out}`)))
  })
  return { child, port, file }
}

/** Peak resident memory of a process (kB), from /proc. */
function peakRssKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1] ?? 0)
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => child.once('exit', (code) => r(code)))
}

describe('a gateway process', () => {
  let slow: Upstream
  let bulk: Upstream
  let received = 0

  before(async () => {
    slow = await upstream('slow', (_req, res) => setTimeout(() => res.end('done'), 1000))
    bulk = await upstream('bulk')
    // the recording helper collects bodies: replace it with one that counts uploads as they
    // stream and generates 100 MB downloads on the fly, so nothing is buffered on this side
    bulk.server.removeAllListeners('request')
    bulk.server.on('request', (req, res) => {
      if (req.method === 'POST') {
        received = 0
        req.on('data', (c: Buffer) => {
          received += c.length
        })
        req.on('end', () => res.end(JSON.stringify({ received })))
        return
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(100 * MB) })
      const chunk = Buffer.alloc(64 * 1024, 1)
      let sent = 0
      const pump = () => {
        while (sent < 100 * MB) {
          sent += chunk.length
          if (!res.write(chunk)) return res.once('drain', pump)
        }
        res.end()
      }
      pump()
    })
  })
  after(async () => {
    await Promise.all([slow.close(), bulk.close()])
  })

  test('SIGTERM: in-flight requests finish, new connections are refused, exit 0', async () => {
    const { child, port } = await startProcess(`
_format_version: "3.0"
services:
  - { name: slow, url: "${slow.url}", routes: [{ name: slow, paths: [/slow] }] }
`)
    const exited = exitCode(child)
    const before = slow.seen.length
    const inflight = Array.from({ length: 5 }, () => call(`http://127.0.0.1:${port}/slow`))
    // SIGTERM once all five are in flight upstream (a connection still in the accept backlog
    // when the listener closes is reset by the kernel: that is not an in-flight request)
    for (let i = 0; i < 200 && slow.seen.length - before < 5; i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(slow.seen.length - before, 5)
    child.kill('SIGTERM')
    const results = await Promise.all(inflight)
    for (const r of results) {
      assert.equal(r.status, 200)
      assert.equal(r.text, 'done')
    }
    assert.equal(await exited, 0)
    await assert.rejects(call(`http://127.0.0.1:${port}/slow`))
  })

  test('100 MB each way stream through in flat memory', async () => {
    const { child, port } = await startProcess(`
_format_version: "3.0"
services:
  - { name: bulk, url: "${bulk.url}", routes: [{ name: bulk, paths: [/bulk] }] }
`)
    try {
      await call(`http://127.0.0.1:${port}/healthz`)
      const baseKb = peakRssKb(child.pid!)
      // download: read and drop
      const down = await request(`http://127.0.0.1:${port}/bulk`)
      let got = 0
      for await (const c of down.body) got += (c as Buffer).length
      assert.equal(got, 100 * MB)
      // upload: a generated stream of 100 MB
      let left = 100 * MB
      const chunk = Buffer.alloc(64 * 1024, 2)
      const body = new Readable({
        read() {
          if (left <= 0) return this.push(null)
          left -= chunk.length
          this.push(chunk)
        },
      })
      const up = await request(`http://127.0.0.1:${port}/bulk`, { method: 'POST', body })
      assert.deepEqual(await up.body.json(), { received: 100 * MB })
      const peakKb = peakRssKb(child.pid!)
      const growthMb = (peakKb - baseKb) / 1024
      // buffering would hold at least one 100 MB body; streaming plateaus at the GC's slack
      // (measured ~65-70 MB whether 25, 100 or 400 MB pass through)
      assert.ok(growthMb < 90, `gateway peak RSS grew by ${growthMb.toFixed(1)} MB moving 200 MB`)
    } finally {
      child.kill('SIGTERM')
      await exitCode(child)
    }
  })
})
