/**
 * An exec hook that plays the container runtime for hostNetwork pods: the command runs as
 * `ip netns exec NETNS argv…` in the network namespace that plays the pod's node (the lab's node
 * namespaces, a test's), so what comes back is that node's real datapath state. A binary that does
 * not exist is reported as containerd reports it, as a failure to start rather than an exit code.
 */
import {spawn} from 'node:child_process'
import type {ExecContext, ExecHook, ExecResult} from './exec.js'

export interface NetnsExecOptions {
  /** Node name → network namespace; a node without one cannot be exec'd into. */
  netnsFor: (node: string) => string | undefined
  /** Refuse commands this predicate rejects (the lab serves only knet's catalogue). */
  allow?: (command: string[]) => boolean
}

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin']
const EXEC_FAILED = /exec of "(.*)" failed: No such file or directory/

export function netnsExecHook(options: NetnsExecOptions): ExecHook {
  return async (ctx: ExecContext): Promise<ExecResult> => {
    const spec = ctx.pod.spec as {hostNetwork?: unknown} | undefined
    if (spec?.hostNetwork !== true) return {error: 'this stand-in runs commands only in hostNetwork pods (the node\'s own network namespace)'}
    const netns = ctx.node === undefined ? undefined : options.netnsFor(ctx.node)
    if (!netns) return {error: `no network namespace plays node ${ctx.node ?? '(none)'}`}
    if (ctx.command.length === 0) return {error: 'no command given'}
    if (options.allow && !options.allow(ctx.command)) return {error: `refused by this stand-in: ${ctx.command.join(' ')}`}
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
        resolve({error: `failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "${missing[1]}": executable file not found in $PATH: unknown`})
        return
      }
      resolve({exitCode: code ?? (signal === 'SIGKILL' ? 137 : 128)})
    })
  })
}
