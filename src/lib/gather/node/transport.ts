/**
 * How knet reaches a node. Every transport takes a catalogue entry, never free-form argv, and
 * passes argv as an array (execa, no shell), so nothing a user types can become a command.
 */
import {execa} from 'execa'
import {isCatalogArgv, type CatalogCommand} from './catalog.js'

export interface ExecOutcome {
  /** What actually ran, transport prefix included (e.g. ip netns exec NS …). */
  execArgv: string[]
  exitCode: number | null
  stdout: string
  stderr: string
  durationMs: number
  timedOut: boolean
  truncated: boolean
  /** The binary does not exist where the command ran. */
  notFound: boolean
  /** A spawn-level failure that is not one of the above. */
  error?: string
}

export interface NodeTransport {
  readonly kind: string
  /** What the transport points at: "localhost", a netns name, a pod, a host. */
  readonly target: string
  exec(command: CatalogCommand, signal?: AbortSignal): Promise<ExecOutcome>
}

// Tools live in sbin on most distributions, which is often not on a non-root user's PATH.
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']

function commandEnv(): Record<string, string> {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean)
  for (const dir of SBIN) if (!path.includes(dir)) path.push(dir)
  // LC_ALL=C: parsers rely on untranslated output.
  return {PATH: path.join(':'), LC_ALL: 'C'}
}

/**
 * Run argv on this host with the command's limits. The catalogue check is repeated here, at the
 * last step before a process starts, so no future caller can bypass it.
 */
export async function runArgv(
  command: CatalogCommand,
  execArgv: string[],
  signal: AbortSignal | undefined,
  notFoundPattern?: RegExp,
): Promise<ExecOutcome> {
  if (!isCatalogArgv(command.argv)) throw new Error(`refusing to run a command outside the catalogue: ${command.argv.join(' ')}`)
  const [file, ...args] = execArgv
  if (!file) throw new Error('empty argv')
  const started = performance.now()
  const result = await execa(file, args, {
    reject: false,
    stdin: 'ignore',
    timeout: command.timeoutMs,
    maxBuffer: command.maxBytes,
    stripFinalNewline: false,
    env: commandEnv(),
    extendEnv: true,
    cancelSignal: signal,
    forceKillAfterDelay: 2000,
  })
  const durationMs = Math.round(performance.now() - started)
  const stdout = typeof result.stdout === 'string' ? result.stdout : ''
  const stderr = typeof result.stderr === 'string' ? result.stderr : ''
  const spawnMissing = (result as {code?: string}).code === 'ENOENT'
  const notFound = spawnMissing || (notFoundPattern !== undefined && result.exitCode !== 0 && notFoundPattern.test(stderr))
  return {
    execArgv,
    exitCode: result.exitCode ?? null,
    stdout,
    stderr,
    durationMs,
    timedOut: Boolean(result.timedOut),
    truncated: Boolean(result.isMaxBuffer),
    notFound,
    error: result.failed && !result.timedOut && !result.isMaxBuffer && result.exitCode === undefined && !spawnMissing ? result.shortMessage : undefined,
  }
}
