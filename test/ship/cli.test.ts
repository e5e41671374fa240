import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort, watchChild } from '../fixtures/ship.js'

const BIN = fileURLToPath(new URL('../../../bin/portico.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('portico demo-service runs one demo service alone, and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [BIN, 'demo-service', 'users-1', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const { output, exited } = watchChild(child)
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', () => {
        const m = /on 127\.0\.0\.1:(\d+)/.exec(output())
        if (m) resolve(Number(m[1]))
      })
      void exited.then((code) => reject(new Error(`exited ${code}: ${output()}`)))
    })
    const res = await fetch(`http://127.0.0.1:${port}/users`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-instance'), 'users-1')
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
  } finally {
    child.kill('SIGKILL')
  }
})

test('portico demo-service refuses an unknown name with its usage', () => {
  const r = spawnSync(process.execPath, [BIN, 'demo-service', 'nope'], { encoding: 'utf8' })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /usage: portico demo-service inference-a\|/)
})

test('portico init keeps an existing file unless --force', () => {
  const file = join(dir, 'portico.yaml')
  writeFileSync(file, 'mine\n')
  const r = spawnSync(process.execPath, [BIN, 'init'], { cwd: dir, encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /exists already/)
  assert.equal(readFileSync(file, 'utf8'), 'mine\n')
  execFileSync(process.execPath, [BIN, 'init', '--force'], { cwd: dir })
  assert.match(readFileSync(file, 'utf8'), /_format_version: "3.0"/)
})

test('portico health fails when the status listener does not answer', async () => {
  const port = await freePort()
  const r = spawnSync(process.execPath, [BIN, 'health'], {
    encoding: 'utf8',
    env: { ...process.env, PORTICO_STATUS_LISTEN: `127.0.0.1:${port}` },
  })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /\/healthz/)
})
