import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { validateFile } from '../fixtures/ship.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const K8S = join(ROOT, 'deploy/kubernetes')
const overlays = readdirSync(join(K8S, 'overlays'))

type Obj = {
  apiVersion: string
  kind: string
  metadata: { name: string }
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read field by field
  spec?: any
  data?: Record<string, string>
}

/** `kubectl kustomize` (scripts/test.sh installs kubectl when missing) → the rendered objects. */
function render(dir: string): Obj[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })
  return parseAllDocuments(out).map((d) => d.toJSON() as Obj)
}

/**
 * Validates an object against the Kubernetes JSON schema of its apiVersion and kind: the
 * kubernetes-models package ships the upstream OpenAPI schemas compiled by ajv.
 */
async function validate(obj: Obj): Promise<void> {
  // apps/v1 → kubernetes-models/apps/v1/Deployment; the core group is plain v1
  const mod = (await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)) as Record<
    string,
    new (
      o: unknown,
    ) => { validate(): void }
  >
  // kustomize wraps long Secret values in a block of 70-column base64 lines, which the API
  // server's decoder accepts; the schema's `byte` format allows no line breaks
  if (obj.kind === 'Secret' && obj.data)
    obj = {
      ...obj,
      data: Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, v.replace(/\s+/g, '')])),
    }
  const Model = mod[obj.kind]
  assert.ok(Model, `no schema for ${obj.apiVersion} ${obj.kind}`)
  new Model(obj).validate()
}

describe('Kubernetes manifests', () => {
  test('the overlays are dev and production', () => {
    assert.deepEqual(overlays.sort(), ['dev', 'production'])
  })

  for (const overlay of overlays) {
    test(`kubectl kustomize renders ${overlay}, and every object is valid against the Kubernetes schemas`, async () => {
      const objects = render(join(K8S, 'overlays', overlay))
      for (const obj of objects) {
        await assert.doesNotReject(validate(obj), `${obj.kind}/${obj.metadata.name}`)
      }
      const kinds = new Set(objects.map((o) => o.kind))
      for (const k of [
        'Deployment',
        'Service',
        'ConfigMap',
        'Secret',
        'PodDisruptionBudget',
        'HorizontalPodAutoscaler',
      ])
        assert.ok(kinds.has(k), `${overlay} renders a ${k}`)
      const gw = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'portico')!
      const pod = gw.spec.template.spec
      const c = pod.containers[0]
      assert.equal(c.readinessProbe.httpGet.path, '/healthz')
      assert.equal(c.livenessProbe.httpGet.path, '/healthz')
      assert.ok(c.lifecycle.preStop, 'a preStop drain')
      assert.ok(c.resources.requests.cpu && c.resources.limits.memory)
      assert.ok(pod.securityContext.runAsNonRoot)
      // preStop + the drain fit in the grace period
      const drain = Number(c.env.find((e: { name: string }) => e.name === 'PORTICO_DRAIN_TIMEOUT').value)
      assert.ok(5 + drain / 1000 < pod.terminationGracePeriodSeconds)
      // the ConfigMap holding the declarative file is the one mounted
      const cm = objects.find((o) => o.kind === 'ConfigMap')!
      assert.equal(pod.volumes[0].configMap.name, cm.metadata.name)
      assert.ok(cm.data?.['portico.yaml'])
      const secret = objects.find((o) => o.kind === 'Secret')!
      const redisUrl = Buffer.from(secret.data!['redis-url']!, 'base64').toString()
      // a non-loopback Admin API refuses to start with a shorter token
      assert.ok(Buffer.from(secret.data!['admin-token']!, 'base64').toString().length >= 16)
      if (overlay === 'dev') {
        assert.ok(
          objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'redis'),
          'an in-cluster Redis',
        )
        assert.equal(redisUrl, 'redis://redis:6379')
      } else {
        assert.match(redisUrl, /^redis\+cluster:\/\//)
        assert.ok(!objects.some((o) => o.metadata.name === 'redis'))
      }
    })
  }

  test('the validation refuses a wrong object (the schemas are really applied)', async () => {
    const [gw] = render(join(K8S, 'overlays/dev')).filter((o) => o.kind === 'Deployment')
    gw!.spec.replicas = 'three'
    await assert.rejects(validate(gw!), /replicas must be integer/)
  })

  test('the base declarative file is valid', async () => {
    const { code, out } = await validateFile(join(K8S, 'base/portico.yaml'))
    assert.equal(code, 0, out)
  })
})
