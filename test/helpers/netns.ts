/**
 * Real Linux network namespaces for tests. Tests that need them are root-only (CI runs as root);
 * elsewhere they are skipped with the reason in the suite's name, so the skip is visible.
 */
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {describe} from 'vitest'

function probeReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'needs root for ip netns'
  try {
    execFileSync('ip', ['-V'], {stdio: 'ignore'})
  } catch {
    return 'needs iproute2 (ip) on PATH'
  }
  return undefined
}

export const netnsSkipReason = probeReason()

function missingTools(tools: readonly string[]): string[] {
  const path = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']
  return tools.filter((tool) => !path.some((dir) => dir && existsSync(`${dir}/${tool}`)))
}

/**
 * describe() when namespaces (and the named tools) are usable, otherwise a skipped suite whose
 * title says why, so the skip shows in the test report.
 */
export function describeNetns(title: string, fn: () => void, needs: readonly string[] = []): void {
  const missing = netnsSkipReason ? [] : missingTools(needs)
  const reason = netnsSkipReason ?? (missing.length ? `needs ${missing.join(', ')} on PATH` : undefined)
  if (reason) describe.skip(`${title} [skipped: ${reason}]`, fn)
  else describe(title, fn)
}

/**
 * describeNetns() for the emulated lab-fault suites (every fault broken once per topology, and the
 * dual-stack and IPv6-only suites). CI's Node 24 pass sets KNET_SKIP_LAB_FAULTS, as it sets
 * KNET_SKIP_REAL_LAB: they ran in its Node 20 pass, they drive the same `ip`, iptables and kernel, and
 * they are a third of a pass; the skip and its reason show in the suite's title.
 */
export function describeLabFaults(title: string, fn: () => void, needs: readonly string[] = []): void {
  const skip = process.env.KNET_SKIP_LAB_FAULTS?.trim()
  if (skip) describe.skip(`${title} [skipped: KNET_SKIP_LAB_FAULTS: ${skip}]`, fn)
  else describeNetns(title, fn, needs)
}

export {TestNetns, waitForIpv6Settled} from './netns-core.js'
