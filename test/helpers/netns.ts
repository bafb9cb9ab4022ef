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

export {TestNetns, waitForIpv6Settled} from './netns-core.js'
