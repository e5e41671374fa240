import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { validateFile } from '../fixtures/ship.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const COMPOSE = join(ROOT, 'deploy/compose')
const stacks = readdirSync(COMPOSE, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(COMPOSE, e.name, 'docker-compose.yml')))
  .map((e) => join(COMPOSE, e.name, 'docker-compose.yml'))

type Compose = {
  services: Record<string, { volumes?: string[]; command?: string[]; environment?: Record<string, string> }>
}

describe('compose stacks', () => {
  test('there are the demo and cluster stacks', () => {
    assert.deepEqual(stacks.map((f) => f.split('/').at(-2)).sort(), ['cluster', 'demo'])
  })

  for (const file of stacks) {
    const stack = file.split('/').at(-2)!
    test(`docker-compose config accepts ${stack} (with the load profile)`, () => {
      // Debian's docker-compose; scripts/test.sh installs it when missing
      const out = execFileSync('docker-compose', ['-f', file, '--profile', 'load', 'config'], {
        cwd: dirname(file),
        encoding: 'utf8',
      })
      const config = parse(out) as Compose
      assert.ok(config.services.redis && config.services.load, 'Redis and the load service')
      // every file a service mounts from the repository exists
      for (const [name, svc] of Object.entries(config.services)) {
        for (const v of svc.volumes ?? []) {
          const host = typeof v === 'string' ? v.split(':')[0]! : (v as { source: string }).source
          if (host.endsWith('/reports')) continue // created by the load run
          assert.ok(
            existsSync(resolve(dirname(file), host)),
            `${stack}/${name} mounts ${host}, which is missing`,
          )
        }
      }
      // a non-loopback Admin API refuses to start with a token shorter than 16 characters
      for (const svc of Object.values(config.services)) {
        const token = svc.environment?.PORTICO_ADMIN_TOKEN
        if (token !== undefined) assert.ok(token.length >= 16, `${stack}: admin token too short`)
      }
      // each demo service runs from the Portico image
      for (const svc of ['inference-a', 'inference-b', 'users-1', 'users-2', 'slow', 'auth'])
        assert.deepEqual(config.services[svc]?.command, ['demo-service', svc])
    })
  }

  test('the cluster runs three nodes on the Redis config store behind one load balancer', () => {
    const out = execFileSync(
      'docker-compose',
      ['-f', join(COMPOSE, 'cluster/docker-compose.yml'), 'config'],
      {
        encoding: 'utf8',
      },
    )
    const config = parse(out) as Compose
    const nodes = Object.keys(config.services).filter((n) => n.startsWith('gateway-'))
    assert.equal(nodes.length, 3)
    for (const n of nodes) assert.equal(config.services[n]!.environment?.PORTICO_CONFIG_STORE, 'redis')
    const nginx = readFileSync(join(COMPOSE, 'cluster/nginx.conf'), 'utf8')
    for (const n of nodes) assert.match(nginx, new RegExp(`server ${n}:8000`))
  })

  test('the stacks’ gateway file is valid', async () => {
    const { code, out } = await validateFile(join(COMPOSE, 'portico.yaml'))
    assert.equal(code, 0, out)
  })
})
