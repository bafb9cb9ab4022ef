/**
 * The lab's only way to change anything: argv arrays through execa, never a shell string. Every
 * command names the namespace it acts in (`ip -n NS …` or `ip netns exec NS …`), so the host's
 * root namespace is never the target.
 */
import {execa} from 'execa'
import {KnetError} from '../report/errors.js'

export interface RunResult {
  stdout: string
  stderr: string
  exitCode: number
}

/** Run argv; on failure throw a one-line 'command-failed' naming the command and its stderr. */
export async function run(argv: string[], options: {input?: string; timeoutMs?: number} = {}): Promise<RunResult> {
  const [file, ...args] = argv
  if (file === undefined) throw new Error('run: empty argv')
  const r = await execa(file, args, {reject: false, input: options.input ?? '', timeout: options.timeoutMs ?? 30_000, stripFinalNewline: true})
  if (r.exitCode !== 0) {
    const why = r.stderr.split('\n').find((l) => l.trim())?.trim() ?? (r.timedOut ? 'timed out' : `exit ${r.exitCode ?? 'signal'}`)
    throw new KnetError('command-failed', `${argv.join(' ')}: ${why}`, {cause: r})
  }
  return {stdout: r.stdout, stderr: r.stderr, exitCode: 0}
}

/** Like run() but reports failure instead of throwing (teardown keeps going whatever fails). */
export async function tryRun(argv: string[], options: {input?: string; timeoutMs?: number} = {}): Promise<RunResult> {
  const [file, ...args] = argv
  if (file === undefined) throw new Error('tryRun: empty argv')
  const r = await execa(file, args, {reject: false, input: options.input ?? '', timeout: options.timeoutMs ?? 30_000, stripFinalNewline: true})
  return {stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1}
}

/** argv run inside a namespace. */
export function inNetns(netns: string, argv: string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...argv]
}

/** The names `ip netns list` shows (first word of each line: "NAME (id: N)"). */
export async function listNetns(): Promise<string[]> {
  const r = await tryRun(['ip', 'netns', 'list'])
  if (r.exitCode !== 0) return []
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean)
}
