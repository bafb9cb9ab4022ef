/**
 * A node reached through a pod on it (knet's own node pod, or an agent's): each catalogue command
 * runs through the pods/exec API as an argv array — exec passes `command` parameters straight to
 * the container runtime, never through a shell.
 */
import type {PodClient} from '../cluster/pods.js'
import {isCatalogArgv, type CatalogCommand} from './catalog.js'
import type {ExecOutcome, NodeTransport} from './transport.js'

// How containerd and CRI-O report a binary the image does not have.
const NOT_FOUND = /executable file not found|no such file or directory/i

export class PodExecTransport implements NodeTransport {
  readonly target: string

  constructor(
    readonly kind: 'pod' | 'agent',
    private readonly client: PodClient,
    private readonly namespace: string,
    private readonly pod: string,
    private readonly container: string,
  ) {
    this.target = `${namespace}/${pod}`
  }

  async exec(command: CatalogCommand, signal?: AbortSignal): Promise<ExecOutcome> {
    if (!isCatalogArgv(command.argv)) throw new Error(`refusing to run a command outside the catalogue: ${command.argv.join(' ')}`)
    // Recorded as the equivalent kubectl command, so a reader can rerun it by hand.
    const execArgv = ['kubectl', 'exec', '-n', this.namespace, this.pod, '-c', this.container, '--', ...command.argv]
    const started = performance.now()
    const out = await this.client.exec(this.namespace, this.pod, this.container, command.argv, {timeoutMs: command.timeoutMs, maxBytes: command.maxBytes, signal})
    const notFound = out.exitCode === null && out.error !== undefined && NOT_FOUND.test(out.error)
    return {
      execArgv,
      exitCode: out.exitCode,
      stdout: out.stdout,
      stderr: out.stderr,
      durationMs: Math.round(performance.now() - started),
      timedOut: out.timedOut,
      truncated: out.truncated,
      notFound,
      ...(out.error !== undefined && !notFound ? {error: out.error} : {}),
    }
  }
}
