/**
 * Real Linux network namespaces for tests and fixture-capture scripts. No vitest here, so scripts
 * run with tsx can use it too; test/helpers/netns.ts adds the vitest gate.
 */
import {execFileSync} from 'node:child_process'

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
