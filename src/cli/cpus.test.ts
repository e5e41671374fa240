import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import { autoWorkers, cgroupCpus } from './cpus.js'

/** A file system of a few files: what a host or a container shows under /proc and /sys. */
const files =
  (map: Record<string, string>) =>
  (path: string): string | null =>
    map[path] ?? null

test('cgroup v2: the cgroup cpu.max, rounded up; the smallest of it and its ancestors', () => {
  // a container with its own cgroup namespace, started with --cpus 1.5
  const container = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '150000 100000\n' })
  assert.equal(cgroupCpus(container), 2)
  // a process in a nested cgroup: the parent's limit is the tighter one
  const nested = files({
    '/proc/self/cgroup': '0::/kubepods/pod1/c1\n',
    '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': 'max 100000',
    '/sys/fs/cgroup/kubepods/pod1/cpu.max': '100000 100000',
    '/sys/fs/cgroup/kubepods/cpu.max': '400000 100000',
  })
  assert.equal(cgroupCpus(nested), 1)
  assert.equal(
    cgroupCpus(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000' })),
    null,
  )
})

test('cgroup v1: cfs quota over period; -1 is no limit; nothing readable is no limit', () => {
  const v1 = (quota: string) =>
    files({
      '/proc/self/cgroup': '4:cpu,cpuacct:/\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota,
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    })
  assert.equal(cgroupCpus(v1('300000\n')), 3)
  assert.equal(cgroupCpus(v1('-1\n')), null)
  assert.equal(cgroupCpus(files({})), null)
})

test('auto: the cores this process may use, within the CPU limit, at least 1', () => {
  const limited = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '100000 100000' })
  assert.equal(autoWorkers(limited), 1)
  assert.equal(autoWorkers(files({})), availableParallelism())
})
