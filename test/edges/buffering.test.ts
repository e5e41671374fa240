import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readlinkSync } from 'node:fs'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { DEFAULT_SETTINGS } from '../../src/main.js'
import { adminNode } from '../fixtures/admin-helpers.js'
import { gateway } from '../fixtures/helpers.js'
import { get, RawClient } from '../fixtures/raw-http.js'

const KB = 1024
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex').slice(0, 16)

/** What the upstream saw: request heads as they arrived, and whole requests once read. */
interface Recorder {
  url: string
  started: string[]
  done: Array<{ line: string; headers: http.IncomingHttpHeaders; body: Buffer }>
  close(): Promise<void>
}

/**
 * An upstream that records each request's head when it arrives and its body when complete, and
 * answers with the body's length and hash. `/retry…` drops the first attempt's connection once
 * it has read the body; `/big` answers `bigBytes` bytes (with `X-Accel-Buffering: no` under
 * `/accel`).
 */
async function recorder(bigBytes = 0): Promise<Recorder> {
  const started: string[] = []
  const done: Recorder['done'] = []
  let retried = false
  const server = http.createServer((req, res) => {
    const line = `${req.method} ${req.url}`
    started.push(line)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      done.push({ line, headers: req.headers, body })
      if (req.url!.startsWith('/retry') && !retried) {
        retried = true
        return void req.socket.destroy()
      }
      if (req.url!.endsWith('/big')) {
        const head: Record<string, string> = { 'content-length': String(bigBytes) }
        if (req.url!.includes('/accel')) head['x-accel-buffering'] = 'no'
        res.writeHead(200, head)
        return void res.end(Buffer.alloc(bigBytes, 'b'))
      }
      res.end(`got ${body.length} ${sha(body)}`)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    started,
    done,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** Files of `dir` this process holds open (buffered bodies are unlinked, so only /proc sees them). */
function openIn(dir: string): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) n++
    } catch {}
  }
  return n
}

async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

const post = (path: string, length: number, ...lines: string[]) =>
  `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`

/**
 * Kong's `request_buffering` (on by default): a request body is read completely, in memory up
 * to the bound and in an unlinked temporary file beyond it, before an upstream connection is
 * taken; `false` streams it. Slow uploaders, bodies past every bound, clients that stop or lie
 * about their length: what the client gets, what the upstream saw, and the next request.
 */
describe('edges: request buffering', () => {
  let up: Recorder
  let gw: Awaited<ReturnType<typeof gateway>>
  const dir = mkdtempSync(join(tmpdir(), 'portico-buffers-'))
  const procFs = existsSync('/proc/self/fd')

  before(async () => {
    up = await recorder()
    gw = await gateway(
      `_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    retries: 0
    routes:
      - { name: buffered, paths: [/buffered] }
      - { name: streamed, paths: [/streamed], request_buffering: false }
  - name: r
    url: ${up.url}/retry
    retries: 1
    routes:
      - { name: retry, paths: [/retry] }
`,
      {
        limits: {
          ...DEFAULT_SETTINGS.limits,
          maxBodySize: 256 * KB,
          bodyBufferSize: 4 * KB,
          tempDir: dir,
          clientBodyTimeout: 400,
        },
        upstreamPool: { connections: 1, queue: 1 },
      },
    )
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  test('three slow uploaders hold no upstream connection: a plain request on the one connection gets 200; each upload arrives whole', async () => {
    const slow = await Promise.all([0, 1, 2].map(() => RawClient.open(gw.proxy.port)))
    const c = await RawClient.open(gw.proxy.port)
    try {
      for (const [i, s] of slow.entries()) s.send(`${post(`/buffered/slow${i}`, 10)}a`)
      const r = await c.request(get('/buffered/plain', 'a'))
      assert.equal(r.status, 200)
      assert.equal(r.body, `got 0 ${sha('')}`)
      assert.equal(up.started.filter((l) => l.includes('/slow')).length, 0, 'no upload reached the upstream')
      // one after the other: the one connection and its one queue place take two at a time
      for (const s of slow) {
        s.send('bcdefghij')
        assert.equal((await s.response())?.body, `got 10 ${sha('abcdefghij')}`)
      }
      const seen = up.done.filter((d) => d.line.includes('/slow'))
      assert.deepEqual(
        seen.map((d) => d.headers['content-length']),
        ['10', '10', '10'],
      )
      assert.equal((await c.request(get('/buffered/next', 'a'))).status, 200, 'next request, own answer')
    } finally {
      for (const s of slow) s.close()
      c.close()
    }
  })

  test('request_buffering: false streams: a slow uploader holds the one connection, a second waits, a third request gets 503', async () => {
    const slow = await Promise.all([0, 1].map(() => RawClient.open(gw.proxy.port)))
    const c = await RawClient.open(gw.proxy.port)
    try {
      slow[0]!.send(`${post('/streamed/slow0', 10)}a`)
      assert.equal(await eventually(() => up.started.includes('POST /slow0')), true, 'the head went upstream')
      slow[1]!.send(`${post('/streamed/slow1', 10)}a`)
      await new Promise((r) => setTimeout(r, 50))
      const busy = await c.request(get('/streamed/plain', 'a'))
      assert.equal(busy.status, 503)
      for (const s of slow) s.send('bcdefghij')
      const answers = await Promise.all(slow.map((s) => s.response()))
      assert.deepEqual(
        answers.map((a) => a?.status),
        [200, 200],
      )
      assert.equal((await c.request(get('/streamed/next', 'a'))).status, 200, 'next request, own answer')
    } finally {
      for (const s of slow) s.close()
      c.close()
    }
  })

  test('a chunked body goes upstream with its Content-Length and no Transfer-Encoding, byte for byte', async () => {
    const c = await RawClient.open(gw.proxy.port)
    try {
      const r = await c.request(
        'POST /buffered/chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n',
      )
      assert.equal(r.status, 200)
      assert.equal(r.body, `got 11 ${sha('hello world')}`)
      const seen = up.done.at(-1)!
      assert.equal(seen.line, 'POST /chunked')
      assert.equal(seen.headers['content-length'], '11')
      assert.equal(seen.headers['transfer-encoding'], undefined)
      assert.equal((await c.request(get('/buffered/next', 'a'))).status, 200, 'next request, own answer')
    } finally {
      c.close()
    }
  })

  test('a body past the memory bound goes to a temporary file: never in the directory, closed when the request ends; the upstream gets every byte', async () => {
    const body = Buffer.alloc(64 * KB)
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff
    const c = await RawClient.open(gw.proxy.port)
    try {
      c.send(post('/buffered/file', body.length))
      c.send(body.subarray(0, 40 * KB))
      // open, then unlinked at once: open and not in the directory
      const unlinked = () => readdirSync(dir).length === 0 && (!procFs || openIn(dir) === 1)
      assert.equal(await eventually(unlinked), true, 'one file open, none in the directory')
      assert.equal(up.started.includes('POST /file'), false)
      c.send(body.subarray(40 * KB))
      const r = await c.response()
      assert.equal(r?.status, 200)
      assert.equal(r?.body, `got ${body.length} ${sha(body)}`)
      if (procFs) assert.equal(await eventually(() => openIn(dir) === 0), true, 'the file is closed')
      assert.equal((await c.request(get('/buffered/next', 'a'))).status, 200, 'next request, own answer')
    } finally {
      c.close()
    }
  })

  test('a chunked body past the node limit while buffering: 413, the connection ends, nothing upstream, no file left', async () => {
    const c = await RawClient.open(gw.proxy.port)
    try {
      const before = up.started.length
      c.send('POST /buffered/huge HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n')
      const piece = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 'z'), Buffer.from('\r\n')])
      for (let i = 0; i < 6; i++) c.send(piece)
      const r = await c.response(5000)
      assert.equal(r?.status, 413)
      assert.equal(r?.headers.connection, 'close')
      assert.equal(await c.closesWithin(8000), true)
      assert.equal(up.started.length, before)
      if (procFs) assert.equal(await eventually(() => openIn(dir) === 0), true)
    } finally {
      c.close()
    }
  })

  test('a client that goes away mid-body (its body in a file): nothing reaches the upstream and the file is closed', async () => {
    const c = await RawClient.open(gw.proxy.port)
    const before = up.started.length
    c.send(post('/buffered/gone', 64 * KB))
    c.send(Buffer.alloc(32 * KB, 'g'))
    if (procFs) assert.equal(await eventually(() => openIn(dir) === 1), true)
    c.close()
    if (procFs) assert.equal(await eventually(() => openIn(dir) === 0), true, 'the file is closed')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(up.started.length, before)
  })

  test('a Content-Length that promises more than is sent: 408 once the client is silent past the body timeout, the connection ends, nothing upstream', async () => {
    const c = await RawClient.open(gw.proxy.port)
    try {
      const before = up.started.length
      c.send(`${post('/buffered/liar', 100)}only ten b`)
      const r = await c.response(5000)
      assert.equal(r?.status, 408)
      assert.equal(r?.headers.connection, 'close')
      assert.equal(await c.closesWithin(3000), true)
      assert.equal(up.started.length, before)
    } finally {
      c.close()
    }
  })

  test('a Content-Length shorter than the bytes sent: the upstream gets exactly that many; the rest is the next request, answered on its own', async () => {
    const c = await RawClient.open(gw.proxy.port)
    try {
      c.send(`${post('/buffered/short', 5)}helloGET /buffered/smuggled HTTP/1.1\r\nHost: a\r\n\r\n`)
      const first = await c.response()
      const second = await c.response()
      assert.equal(first?.body, `got 5 ${sha('hello')}`)
      assert.equal(second?.status, 200)
      assert.equal(second?.body, `got 0 ${sha('')}`)
      // node:http hands pipelined requests over at once: the GET may reach the upstream first
      assert.deepEqual(
        up.done
          .slice(-2)
          .map((d) => `${d.line} ${d.body.toString()}`)
          .sort(),
        ['GET /smuggled ', 'POST /short hello'],
      )
    } finally {
      c.close()
    }
  })

  test('a buffered body (in a file) is sent again whole when an idempotent request is retried', async () => {
    const body = Buffer.alloc(20 * KB, 'r')
    const c = await RawClient.open(gw.proxy.port)
    try {
      const r = await c.request(
        Buffer.concat([Buffer.from(post('/retry', body.length).replace('POST', 'PUT')), body]),
      )
      assert.equal(r.status, 200)
      assert.equal(r.body, `got ${body.length} ${sha(body)}`)
      const attempts = up.done.filter((d) => d.line === 'PUT /retry')
      assert.deepEqual(
        attempts.map((a) => sha(a.body)),
        [sha(body), sha(body)],
      )
      assert.equal((await c.request(get('/buffered/next', 'a'))).status, 200, 'next request, own answer')
    } finally {
      c.close()
    }
  })
})

/** Reads one response on a raw socket that can be paused: counts the body, keeps only its size. */
function bigReader(port: number, path: string): Promise<{ socket: net.Socket; done: Promise<number> }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      let head = ''
      let got = 0
      let want = -1
      const done = new Promise<number>((r) => {
        socket.on('data', (d: Buffer) => {
          if (want < 0) {
            head += d.toString('latin1')
            const end = head.indexOf('\r\n\r\n')
            if (end === -1) return
            want = Number(/content-length: *(\d+)/i.exec(head.slice(0, end))?.[1] ?? 0)
            got = head.length - end - 4
          } else got += d.length
          if (got >= want) r(got)
        })
        socket.on('close', () => r(got))
      })
      socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`)
      socket.pause()
      resolve({ socket, done })
    })
    socket.on('error', () => {})
  })
}

/**
 * Kong's `response_buffering` (on by default): the upstream's answer is read as fast as the
 * upstream sends it, up to the node's buffer bound, so a client that reads slowly does not hold
 * the upstream's connection; `false`, or the upstream's `X-Accel-Buffering: no`, keeps today's
 * backpressure (the upstream waits for the client). Small pieces are never held back (SSE).
 */
describe('edges: response buffering', () => {
  const BIG = 16 * 1024 * KB
  let up: Recorder
  let gw: Awaited<ReturnType<typeof gateway>>

  before(async () => {
    up = await recorder(BIG)
    gw = await gateway(
      `_format_version: "3.0"
services:
  - name: s
    url: ${up.url}
    routes:
      - { name: on, paths: [/on] }
      - { name: off, paths: [/off], response_buffering: false }
      - { name: accel, paths: [/accel], strip_path: false }
`,
      {
        limits: { ...DEFAULT_SETTINGS.limits, bodyBufferSize: 2 * BIG },
        upstreamPool: { connections: 1, queue: 1 },
      },
    )
  })
  after(async () => {
    await gw.stop()
    await up.close()
  })

  test('on: a client not reading a 16 MiB answer leaves the one upstream connection free; it still gets every byte', async () => {
    const before = up.started.filter((l) => l === 'GET /big').length
    const slow = await bigReader(gw.proxy.port, '/on/big')
    const c = await RawClient.open(gw.proxy.port)
    try {
      // the big answer holds the connection first; the small request then waits for it
      assert.equal(await eventually(() => up.started.filter((l) => l === 'GET /big').length > before), true)
      const r = await c.request(get('/on/small', 'a'))
      assert.equal(r.status, 200)
      slow.socket.resume()
      assert.equal(await slow.done, BIG)
    } finally {
      slow.socket.destroy()
      c.close()
    }
  })

  for (const path of ['/off/big', '/accel/big']) {
    test(`${path === '/off/big' ? 'off' : 'X-Accel-Buffering: no'}: the client not reading holds the upstream connection (a third request gets 503), then gets every byte`, async () => {
      const line = `GET ${path.replace('/off', '')}`
      const before = up.started.filter((l) => l === line).length
      const slow = await bigReader(gw.proxy.port, path)
      const waiting = await RawClient.open(gw.proxy.port)
      const c = await RawClient.open(gw.proxy.port)
      try {
        assert.equal(await eventually(() => up.started.filter((l) => l === line).length > before), true)
        waiting.send(get('/off/small-1', 'a'))
        await new Promise((r) => setTimeout(r, 50))
        const busy = await c.request(get('/off/small-2', 'a'))
        assert.equal(busy.status, 503)
        slow.socket.resume()
        assert.equal(await slow.done, BIG)
        assert.equal((await waiting.response())?.status, 200)
        assert.equal((await c.request(get('/off/next', 'a'))).status, 200, 'next request, own answer')
      } finally {
        slow.socket.destroy()
        waiting.close()
        c.close()
      }
    })
  }
})

describe('edges: the buffering fields in the Admin API', () => {
  test("Kong's defaults (true) in every answer; set, changed and refused as Kong's booleans; the proxy follows at once", async () => {
    const up = await recorder()
    const a = await adminNode()
    try {
      assert.equal((await a.req('POST', '/services', { name: 's', url: up.url })).status, 201)
      const made = await a.req('POST', '/services/s/routes', { name: 'r', paths: ['/r'] })
      assert.equal(made.status, 201)
      assert.deepEqual([made.body.request_buffering, made.body.response_buffering], [true, true])
      const off = await a.req('PATCH', '/routes/r', 'request_buffering=false&response_buffering=false', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      assert.equal(off.status, 200)
      const got = await a.req('GET', '/routes/r')
      assert.deepEqual([got.body.request_buffering, got.body.response_buffering], [false, false])
      const bad = await a.req('PATCH', '/routes/r', { request_buffering: 'sometimes' })
      assert.equal(bad.status, 400)
      assert.deepEqual((bad.body.fields as Record<string, unknown>).request_buffering, 'expected a boolean')
      const applied = () => a.node.gateway.runtime.document.routes.find((r) => r.name === 'r')
      assert.equal(await eventually(() => applied()?.request_buffering === false), true)
      // streamed now: the head of an unfinished upload reaches the upstream
      const c = await RawClient.open(a.node.proxy.port)
      try {
        c.send(`POST /r/unfinished HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nab`)
        assert.equal(await eventually(() => up.started.includes('POST /unfinished')), true)
        c.send('cd')
        assert.equal((await c.response())?.body, `got 4 ${sha('abcd')}`)
      } finally {
        c.close()
      }
    } finally {
      await a.stop()
      await up.close()
    }
  })
})
