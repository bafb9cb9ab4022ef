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

let counter = 0

/** A uniquely named namespace, removed by destroy(). Names start with "knet-t-" so leaks are easy to spot. */
export class TestNetns {
  readonly name: string

  private constructor(name: string) {
    this.name = name
  }

  static create(tag: string): TestNetns {
    const name = `knet-t-${tag}-${process.pid}-${counter++}`
    execFileSync('ip', ['netns', 'add', name])
    const ns = new TestNetns(name)
    ns.run(['ip', 'link', 'set', 'lo', 'up'])
    return ns
  }

  /** Run argv inside the namespace; throws with stderr on failure (tests build state they control). */
  run(argv: string[], input?: string): string {
    try {
      return execFileSync('ip', ['netns', 'exec', this.name, ...argv], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']})
    } catch (error) {
      const e = error as {stderr?: string; message: string}
      throw new Error(`in ${this.name}: ${argv.join(' ')}: ${e.stderr?.trim() || e.message}`)
    }
  }

  /** Same as run() but returns exit status and output instead of throwing. */
  tryRun(argv: string[]): {status: number; stdout: string; stderr: string} {
    try {
      const stdout = execFileSync('ip', ['netns', 'exec', this.name, ...argv], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
      return {status: 0, stdout, stderr: ''}
    } catch (error) {
      const e = error as {status?: number; stdout?: string; stderr?: string}
      return {status: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? ''}
    }
  }

  destroy(): void {
    try {
      execFileSync('ip', ['netns', 'del', this.name], {stdio: 'ignore'})
    } catch {
      // already gone
    }
  }
}
