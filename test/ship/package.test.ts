import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loopbackEnv, until, watchChild } from '../fixtures/ship.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'portico-pack-'))
after(() => rmSync(work, { recursive: true, force: true }))

const run = (cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } })

/** Relative imports (static and dynamic) of a compiled module. */
function relativeImports(source: string): string[] {
  return [...source.matchAll(/(?:from\s*|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!)
}

// `npm pack` → install in an empty folder → `portico --version`, `portico init`, `portico start`.
test('npm pack installs in an empty folder and gives a working portico command', {
  timeout: 300_000,
}, async () => {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT)) as Array<{
    filename: string
    files: Array<{ path: string }>
  }>
  const files = packed[0]!.files.map((f) => f.path)
  // only what runs: no tests, no TypeScript sources, no maps, no test helpers
  assert.deepEqual(
    files.filter((f) => /\.test\.js$|\.ts$|\.map$|(^|\/)testing\.js$|^test\/|^src\//.test(f)),
    [],
  )
  assert.ok(files.includes('bin/portico.js') && files.includes('demo/portico.demo.yaml'))

  const app = join(work, 'app')
  run('mkdir', ['-p', app], work)
  run('npm', ['install', '--no-audit', '--no-fund', join(work, packed[0]!.filename)], app)
  // every relative import of a shipped module resolves to a shipped file
  const pkg = join(app, 'node_modules/portico')
  const missing: string[] = []
  for (const f of files.filter((p) => p.endsWith('.js'))) {
    const source = readFileSync(join(pkg, f), 'utf8')
    for (const spec of relativeImports(source)) {
      if (!existsSync(resolve(dirname(join(pkg, f)), spec))) missing.push(`${f} → ${spec}`)
    }
  }
  assert.deepEqual(missing, [])
  assert.ok(!existsSync(join(app, 'node_modules/typescript')), 'dev dependencies are not installed')

  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
    .version
  assert.equal(run('npx', ['--no-install', 'portico', '--version'], app).trim(), `portico ${version}`)
  const init = run('npx', ['--no-install', 'portico', 'init'], app)
  assert.match(init, /wrote portico\.yaml/)
  assert.match(init, /portico start/)
  assert.deepEqual(readdirSync(app).sort(), [
    'node_modules',
    'package-lock.json',
    'package.json',
    'portico.yaml',
  ])
  assert.match(readFileSync(join(app, 'portico.yaml'), 'utf8'), /^# portico\.yaml/)
  assert.match(run('npx', ['--no-install', 'portico', 'validate', 'portico.yaml'], app), /valid|ok/i)

  const { env, status, proxy } = await loopbackEnv()
  const child = spawn('npx', ['--no-install', 'portico', 'start'], {
    cwd: app,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const { output, exited } = watchChild(child)
  try {
    const healthy = await until(
      () =>
        fetch(`http://127.0.0.1:${status}/healthz`).then(
          (r) => r.status === 200,
          () => false,
        ),
      exited,
    )
    assert.ok(healthy, `portico start never answered /healthz:\n${output()}`)
    // the starter's route is loaded: /example is routed (its upstream is not running: 502)
    const res = await fetch(`http://127.0.0.1:${proxy}/example`)
    assert.equal(res.status, 502)
    const none = await fetch(`http://127.0.0.1:${proxy}/nowhere`)
    assert.equal(none.status, 404)
  } finally {
    // npx runs portico as its child: signal the group
    process.kill(-child.pid!, 'SIGTERM')
    await exited
  }
})
