import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import tls from 'node:tls'
import { type Pem, Pki } from '../fixtures/certs.js'
import { gateway, sleep } from '../fixtures/helpers.js'
import { freePort } from '../fixtures/redis-topology.js'

// OCSP stapling: a certificate that names a responder gets its status stapled (fetched in the
// background from OpenSSL's own test responder); one without a responder is never looked up.

/** `openssl ocsp`'s index line for a valid certificate. */
function indexLine(pem: string): string {
  const c = new X509Certificate(pem)
  const d = new Date(c.validTo)
  const p = (n: number) => String(n).padStart(2, '0')
  const end = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`
  return `V\t${end}\t\t${c.serialNumber}\tunknown\t/CN=${c.subject.replace(/^CN=/, '')}\n`
}

function stapled(port: number, servername: string): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | null = null
    // requestOCSP is a tls.connect option node's types leave out
    const options = { host: '127.0.0.1', port, servername, requestOCSP: true, rejectUnauthorized: false }
    const socket = tls.connect(options as tls.ConnectionOptions)
    socket.on('OCSPResponse', (r: Buffer) => {
      staple = r
    })
    socket.once('secureConnect', () => {
      socket.end()
      resolve(staple)
    })
    socket.once('error', reject)
  })
}

/** One status query to the responder with OpenSSL's client: true when it answered. */
function answers(dir: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'openssl',
      [
        'ocsp',
        '-issuer',
        'ca.pem',
        '-cert',
        'leaf.pem',
        '-url',
        `http://127.0.0.1:${port}`,
        '-noverify',
        '-timeout',
        '2',
      ],
      { cwd: dir },
      (err, stdout) => resolve(err === null && /: good/.test(stdout)),
    )
  })
}

describe('OCSP stapling', () => {
  let pki: Pki
  let responder: ChildProcess
  let gw: Awaited<ReturnType<typeof gateway>>
  let withOcsp: Pem
  let port: number

  before(async () => {
    pki = await Pki.create()
    const ocspPort = await freePort()
    withOcsp = await pki.leaf('ocsp.test', ['ocsp.test'], {
      extensions: [`authorityInfoAccess=OCSP;URI:http://127.0.0.1:${ocspPort}`],
    })
    const plain = await pki.leaf('plain.test')
    writeFileSync(join(pki.dir, 'index.txt'), indexLine(withOcsp.cert))
    responder = spawn(
      'openssl',
      [
        'ocsp',
        '-index',
        'index.txt',
        '-port',
        String(ocspPort),
        '-rsigner',
        'ca.pem',
        '-rkey',
        'ca.key',
        '-CA',
        'ca.pem',
        '-ignore_err',
      ],
      { cwd: pki.dir, stdio: 'ignore' },
    )
    // the responder answers a real query before the node starts (at most 100 tries)
    writeFileSync(join(pki.dir, 'leaf.pem'), withOcsp.cert)
    for (let i = 0; i < 100 && !(await answers(pki.dir, ocspPort)); i++) await sleep(100)
    // the issuer travels in the certificate's chain: Node hands it to the stapler
    gw = await gateway(
      `_format_version: "3.0"
certificates:
  - cert: ${JSON.stringify(withOcsp.cert + pki.ca.cert)}
    key: ${JSON.stringify(withOcsp.key)}
    snis: [{ name: ocsp.test }]
  - cert: ${JSON.stringify(plain.cert + pki.ca.cert)}
    key: ${JSON.stringify(plain.key)}
    snis: [{ name: plain.test }]
`,
      {
        proxyListen: [
          { host: '127.0.0.1', port: 0, ssl: false, http2: false },
          { host: '127.0.0.1', port: 0, ssl: true, http2: false },
        ],
      },
    )
    port = gw.listeners[1]!.port
  })
  after(async () => {
    await gw.stop()
    responder.kill()
    pki.close()
  })

  test('a certificate with a responder gets its status stapled', async () => {
    let staple: Buffer | null = null
    // the first handshake starts the background fetch; later ones carry the response (≤ 400
    // tries: a fetch runs `openssl ocsp`, slow on a loaded machine; a failed one is retried
    // after 5 s, then 10 s, 20 s)
    for (let i = 0; i < 400 && staple === null; i++) {
      staple = await stapled(port, 'ocsp.test')
      if (staple === null) await sleep(100)
    }
    assert.ok(staple !== null && staple.length > 0, 'an OCSP response was stapled')
  })

  test('a certificate without a responder is never looked up', async () => {
    const before = gw.ocsp.fetches
    assert.equal(await stapled(port, 'plain.test'), null)
    assert.equal(gw.ocsp.fetches, before)
  })
})
