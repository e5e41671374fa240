import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { reloadUnderLoad } from '../../scripts/reload-under-load.js'
import { call, gateway, sleep, type Upstream, upstream } from '../fixtures/helpers.js'
import { startProcess } from './process.test.js'

const doc = (url: string, extraPath: string) => `
_format_version: "3.0"
services:
  - name: s
    url: ${url}
    routes:
      - { name: main, paths: [/main] }
      - { name: extra, paths: ["${extraPath}"] }
`

describe('reloading the declarative file', () => {
  let up: Upstream
  before(async () => {
    up = await upstream('up')
  })
  after(() => up.close())

  test('a valid file swaps the runtime; an invalid one is refused and the old config keeps serving', async () => {
    const gw = await gateway(doc(up.url, '/one'))
    try {
      assert.equal((await call(`${gw.url}/one`)).status, 200)
      writeFileSync(gw.file!, doc(up.url, '/two'))
      const ok = await gw.reload()
      assert.equal(ok.ok, true)
      assert.equal((await call(`${gw.url}/one`)).status, 404)
      assert.equal((await call(`${gw.url}/two`)).status, 200)
      writeFileSync(gw.file!, '_format_version: "3.0"\nservices:\n  - name: s\n    port: 99999\n')
      const bad = await gw.reload()
      assert.equal(bad.ok, false)
      assert.ok(!bad.ok && bad.issues.some((i) => i.path.startsWith('services[0]')))
      assert.equal((await call(`${gw.url}/two`)).status, 200, 'still serving the previous config')
    } finally {
      await gw.stop()
    }
  })

  test('SIGHUP and --watch reload a running process', async () => {
    const { child, port, file } = await startProcess(doc(up.url, '/one'), ['--watch'])
    try {
      assert.equal((await call(`http://127.0.0.1:${port}/one`)).status, 200)
      writeFileSync(file, doc(up.url, '/watched'))
      let status = 0
      for (let i = 0; i < 60 && status !== 200; i++) {
        await sleep(50)
        status = (await call(`http://127.0.0.1:${port}/watched`)).status
      }
      assert.equal(status, 200, '--watch picked up the change')
      writeFileSync(file, doc(up.url, '/hup'))
      child.kill('SIGHUP')
      status = 0
      for (let i = 0; i < 60 && status !== 200; i++) {
        await sleep(50)
        status = (await call(`http://127.0.0.1:${port}/hup`)).status
      }
      assert.equal(status, 200, 'SIGHUP reloaded')
    } finally {
      child.kill('SIGTERM')
    }
  })

  test('20 reloads under continuous load: no request fails', async () => {
    const r = await reloadUnderLoad({ reloads: 20, intervalMs: 50, concurrency: 16 })
    assert.equal(r.reloads, 20)
    assert.ok(r.requests > 100, `requests sent: ${r.requests}`)
    assert.equal(r.failed, 0, JSON.stringify(r.failures.slice(0, 5)))
  })
})
