import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/** Reads a file, or null when it is not there (no such cgroup controller on this host). */
const readOrNull = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** Whole CPUs a CFS quota allows (rounded up, at least 1), null for no quota. */
const cpusOf = (quota: number, period: number): number | null =>
  Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0
    ? Math.max(1, Math.ceil(quota / period))
    : null

/**
 * The CPU limit of the cgroup this process runs in (a container's `--cpus`, a Kubernetes CPU
 * limit), in whole CPUs rounded up; null without one. cgroup v2: `cpu.max` of the process's
 * cgroup and its ancestors (the smallest); v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` as a
 * container sees them. Node's `availableParallelism()` counts the host's cores (and the CPU
 * affinity mask) but not this quota.
 *
 * @example
 *   cgroupCpus() // → 2 in a container started with --cpus 1.5 on a 64-core host
 */
export function cgroupCpus(read: (path: string) => string | null = readOrNull): number | null {
  const self = read('/proc/self/cgroup')
  const v2 = self
    ?.split('\n')
    .find((l) => l.startsWith('0::'))
    ?.slice(3)
    .trim()
  let limit: number | null = null
  if (v2 !== undefined) {
    // the process's cgroup, then each ancestor: a parent's limit holds for its children too
    for (let dir = v2 === '/' ? '' : v2; ; dir = dir.slice(0, dir.lastIndexOf('/'))) {
      const max = read(`/sys/fs/cgroup${dir}/cpu.max`)?.trim().split(/\s+/)
      const cpus = max === undefined || max[0] === 'max' ? null : cpusOf(Number(max[0]), Number(max[1]))
      if (cpus !== null) limit = limit === null ? cpus : Math.min(limit, cpus)
      if (dir === '') break
    }
  }
  if (limit !== null) return limit
  const quota = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')
  const period = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')
  return quota === null || period === null ? null : cpusOf(Number(quota), Number(period))
}

/**
 * `--workers auto`: one worker per CPU this process may use: the cores it may run on
 * (`availableParallelism`, which follows taskset/cpusets), within its cgroup's CPU limit.
 */
export function autoWorkers(read?: (path: string) => string | null): number {
  const limit = cgroupCpus(read)
  return Math.max(1, Math.min(availableParallelism(), limit ?? Number.POSITIVE_INFINITY))
}
