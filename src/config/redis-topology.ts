import { z } from 'zod'
import type { RedisSettings } from '../core/services.js'
import { host, port } from './fields.js'

/**
 * Kong 3.x's Sentinel and Cluster fields of `config.redis` (kong/tools/redis/schema.lua and the
 * Enterprise `redis` partial), shared by every plugin that takes a `config.redis` record. With
 * `cluster_nodes` the plugin talks to a Redis Cluster, with `sentinel_nodes` (and
 * `sentinel_master`) to the master a Sentinel group names; the plugins pointing at the same
 * Redis share one connection.
 *
 * @example
 *   redis: { sentinel_master: mymaster, sentinel_nodes: [{ host: 10.0.0.1, port: 26379 }] }
 *   redis: { cluster_nodes: [{ ip: 10.0.0.1, port: 7000 }, { ip: 10.0.0.2, port: 7001 }] }
 */
export const redisTopologyShape = {
  cluster_nodes: z
    .array(
      z.strictObject({
        ip: host.default('127.0.0.1').describe("a Cluster node's address"),
        port: port.default(6379).describe('its port'),
      }),
    )
    .min(1)
    .optional()
    .describe('Redis Cluster seed nodes ({ ip, port }); set: the plugin talks to this Cluster'),
  cluster_max_redirections: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('MOVED/ASK redirections followed per command (Kong: 5)'),
  sentinel_nodes: z
    .array(
      z.strictObject({
        host: host.default('127.0.0.1').describe("a Sentinel's address"),
        port: port.default(26379).describe('its port'),
      }),
    )
    .min(1)
    .optional()
    .describe('Sentinel nodes ({ host, port }); set: the plugin talks to the master they name'),
  sentinel_master: z.string().min(1).optional().describe('the master name Sentinel knows'),
  sentinel_role: z
    .literal('master')
    .optional()
    .describe("Kong: master, slave or any; Portico writes, so only 'master' is accepted"),
  sentinel_username: z.string().optional().describe("the sentinels' ACL user"),
  sentinel_password: z.string().optional().describe("the sentinels' password"),
}

type Topology = {
  host?: string | undefined
  cluster_nodes?: Array<{ ip: string; port: number }> | undefined
  sentinel_nodes?: Array<{ host: string; port: number }> | undefined
  sentinel_master?: string | undefined
}

/** One of host, cluster_nodes and sentinel_nodes (the last with its master's name). */
export function topologyIssues(r: Topology, ctx: z.RefinementCtx, path: string[] = []): void {
  const set = [r.host !== undefined, r.cluster_nodes !== undefined, r.sentinel_nodes !== undefined]
  if (set.filter(Boolean).length > 1) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: 'set one of host, cluster_nodes and sentinel_nodes',
    })
  }
  if (r.sentinel_nodes !== undefined && r.sentinel_master === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'sentinel_master'],
      message: 'required with sentinel_nodes',
    })
  }
}

/** Whether the record names its own Redis (else the plugin uses the node's). */
export function namesRedis(r: Topology | undefined): boolean {
  return (
    r !== undefined &&
    (r.host !== undefined || r.cluster_nodes !== undefined || r.sentinel_nodes !== undefined)
  )
}

/** The topology part of {@link RedisSettings}. */
export function topologySettings(
  r: Topology & {
    sentinel_username?: string | undefined
    sentinel_password?: string | undefined
    cluster_max_redirections?: number | undefined
  },
): Partial<RedisSettings> {
  return {
    cluster_nodes: r.cluster_nodes,
    cluster_max_redirections: r.cluster_max_redirections,
    sentinel_nodes: r.sentinel_nodes,
    sentinel_master: r.sentinel_master,
    sentinel_username: r.sentinel_username,
    sentinel_password: r.sentinel_password,
  }
}
