import { parseHostPort } from '../config/hosts.js'
import type { ConfigDocument, ConfigIssue, ServiceEntity, TargetEntity } from '../core/entities.js'
import { type ApiError, schemaViolation } from './errors.js'
import type { Kind } from './kinds.js'
import type { UpstreamPolicy } from './upstream-policy.js'

function serviceIssue(
  doc: ConfigDocument,
  service: ServiceEntity,
  policy: UpstreamPolicy,
): string | undefined {
  // a service pointing at an upstream entity goes where its targets say: those are checked
  if (doc.upstreams.some((u) => u.name === service.host)) return undefined
  return policy.check(service.host)
}

function targetIssue(target: TargetEntity, policy: UpstreamPolicy): string | undefined {
  const parsed = parseHostPort(target.target)
  return typeof parsed === 'string' ? undefined : policy.check(parsed.host)
}

/**
 * The upstream policy applied to one written entity: a 400 on `host` (services) or `target`
 * (targets) when it points somewhere the Admin API may not send traffic.
 *
 * @example
 *   checkUpstreams(doc, 'services', service, policy) // → ApiError or undefined
 */
export function checkUpstreams(
  doc: ConfigDocument,
  kind: Kind,
  entity: Record<string, unknown>,
  policy: UpstreamPolicy,
): ApiError | undefined {
  let message: string | undefined
  let field = 'host'
  if (kind === 'services') message = serviceIssue(doc, entity as unknown as ServiceEntity, policy)
  else if (kind === 'targets') {
    field = 'target'
    message = targetIssue(entity as unknown as TargetEntity, policy)
  }
  return message === undefined ? undefined : schemaViolation([{ path: field, message }])
}

/**
 * Every service and target of a whole document the policy refuses (`POST /config`).
 *
 * @example
 *   policyIssues(doc, policy) // → [{ path: 'services[2].host', message: 'host 169.254.169.254 is …' }]
 */
export function policyIssues(doc: ConfigDocument, policy: UpstreamPolicy): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  doc.services.forEach((s, i) => {
    const message = serviceIssue(doc, s, policy)
    if (message !== undefined) issues.push({ path: `services[${i}].host`, message })
  })
  doc.targets.forEach((t, i) => {
    const message = targetIssue(t, policy)
    if (message !== undefined) issues.push({ path: `targets[${i}].target`, message })
  })
  return issues
}
