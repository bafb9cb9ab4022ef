/**
 * An exec hook that plays the container runtime: the command runs as `ip netns exec NETNS argv…`
 * in the network namespace that plays the pod — the node's for a hostNetwork pod (the lab's node
 * namespaces, a test's), the pod's own for a workload pod (the lab's pod namespaces) — so what
 * comes back is real datapath state and real packets. The binaries are this host's; `missing`
 * pretends a container lacks some of them (an ephemeral container always has them all, as
 * knet's debug image does). A binary that does not exist is reported as containerd reports it: a
 * failure to start (an InternalError Status), not an exit code.
 */
import {spawn} from 'node:child_process'
import type {ExecContext, ExecHook, ExecResult} from './exec.js'

export interface NetnsExecOptions {
  /** Node name → network namespace; a node without one cannot be exec'd into. */
  netnsFor: (node: string) => string | undefined
  /** A workload (not hostNetwork) pod → its network namespace; without it only hostNetwork pods are served. */
  podNetnsFor?: (namespace: string, name: string) => string | undefined
  /** Refuse commands this predicate rejects (the lab serves knet's catalogue and probe commands in node pods, only the probe's in workload pods). */
  allow?: (command: string[], ctx: ExecContext) => boolean
  /** Binaries a pod's regular containers do not have (by base name): exec'ing one fails as containerd fails it. */
  missing?: (namespace: string, name: string) => readonly string[]
}

/** containerd's words (through the kubelet) when the binary is not in the container. */
export function notFoundError(binary: string): string {
  return `error executing command in container: failed to exec in container: failed to start exec "knet-stand-in": OCI runtime exec failed: exec failed: unable to start container process: exec: "${binary}": executable file not found in $PATH: unknown`
}

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']
const EXEC_FAILED = /exec of "(.*)" failed: No such file or directory/

export function netnsExecHook(options: NetnsExecOptions): ExecHook {
  return async (ctx: ExecContext): Promise<ExecResult> => {
    const spec = ctx.pod.spec as {hostNetwork?: unknown} | undefined
    const name = String((ctx.pod.metadata as {name?: unknown} | undefined)?.name ?? '')
    let netns: string | undefined
    if (spec?.hostNetwork === true) {
      netns = ctx.node === undefined ? undefined : options.netnsFor(ctx.node)
      if (!netns) return {error: `no network namespace plays node ${ctx.node ?? '(none)'}`}
    } else {
      if (!options.podNetnsFor) return {error: 'this stand-in runs commands only in hostNetwork pods (the node\'s own network namespace)'}
      netns = options.podNetnsFor(ctx.namespace, name)
      if (!netns) return {error: `no network namespace plays pod ${ctx.namespace}/${name}`}
    }
    if (ctx.command.length === 0) return {error: 'no command given'}
    const binary = ctx.command[0] as string
    if (!ctx.ephemeral && options.missing?.(ctx.namespace, name).includes(binary.split('/').pop() ?? binary)) return {error: notFoundError(binary)}
    if (options.allow && !options.allow(ctx.command, ctx)) return {error: `refused by this stand-in: ${ctx.command.join(' ')}`}
    return runIn(netns, ctx)
  }
}

function runIn(netns: string, ctx: ExecContext): Promise<ExecResult> {
  return new Promise((resolve) => {
    const path = (process.env.PATH ?? '').split(':').filter(Boolean)
    for (const dir of SBIN) if (!path.includes(dir)) path.push(dir)
    const child = spawn('ip', ['netns', 'exec', netns, ...ctx.command], {
      stdio: [ctx.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: {...process.env, PATH: path.join(':'), LC_ALL: 'C'},
    })
    if (ctx.stdin && child.stdin) ctx.stdin.pipe(child.stdin).on('error', () => undefined)
    let stderrHead = ''
    child.stdout?.on('data', (c: Buffer) => ctx.stdout(c))
    child.stderr?.on('data', (c: Buffer) => {
      if (stderrHead.length < 512) stderrHead += c.toString('utf8')
      ctx.stderr(c)
    })
    const kill = (): void => void child.kill('SIGKILL')
    ctx.signal.addEventListener('abort', kill, {once: true})
    child.on('error', (error) => {
      ctx.signal.removeEventListener('abort', kill)
      resolve({error: `failed to start: ${error.message}`})
    })
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', kill)
      const missing = EXEC_FAILED.exec(stderrHead)
      if (code !== 0 && missing) {
        resolve({error: notFoundError(missing[1] ?? '')})
        return
      }
      resolve({exitCode: code ?? (signal === 'SIGKILL' ? 137 : 128)})
    })
  })
}
