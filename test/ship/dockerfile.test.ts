import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { buildDockerfile, healthcheck, runImage } from '../fixtures/dockerfile.js'
import { loopbackEnv, until, watchChild } from '../fixtures/ship.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'portico-image-'))
after(() => rmSync(work, { recursive: true, force: true }))

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
}

// The Dockerfile's build and runtime steps, executed in a clean folder as the image build runs
// them (npm ci, tsc, npm pack, the production install), then the image's ENTRYPOINT + CMD and
// its HEALTHCHECK. Several minutes on a busy machine: its own timeout.
test('the Dockerfile builds in a clean folder and its image answers /healthz, then drains on SIGTERM', {
  timeout: 600_000,
}, async () => {
  const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim()
  const stages = buildDockerfile({
    dockerfile: join(ROOT, 'Dockerfile'),
    context: ROOT,
    workdir: work,
    npmCache,
  })
  assert.ok(stages.length >= 2, 'a multi-stage build')
  const image = stages.at(-1)!
  assert.notEqual(image.user, 'root', 'the runtime stage runs as a non-root user')
  assert.equal(image.stopSignal, 'SIGTERM')
  assert.deepEqual(image.cmd, ['start'])
  assert.equal(image.env.PORTICO_DECLARATIVE_CONFIG, 'conf/portico.yaml')
  // production dependencies only, and no tests, sources or maps
  assert.ok(existsSync(join(image.cwd, 'node_modules/undici')))
  assert.ok(!existsSync(join(image.cwd, 'node_modules/typescript')), 'no dev dependencies in the image')
  const shipped = filesUnder(image.cwd).filter((f) => !f.includes('/node_modules/'))
  assert.deepEqual(
    shipped.filter((f) => /\.test\.js$|\.ts$|\.map$/.test(f)),
    [],
  )

  const { env, status } = await loopbackEnv()
  const child = runImage(image, env)
  const { output, exited } = watchChild(child)
  try {
    assert.ok(
      await until(async () => (await healthcheck(image, env)) === 0, exited),
      `HEALTHCHECK never passed:\n${output()}`,
    )
    const res = await fetch(`http://127.0.0.1:${status}/healthz`)
    assert.equal(res.status, 200)
    child.kill(image.stopSignal as NodeJS.Signals)
    assert.equal(await exited, 0, `the drain ends with exit 0:\n${output()}`)
  } finally {
    child.kill('SIGKILL')
  }
})
