/**
 * What a kubelet and its container runtime do to a pod's network, done by the hollow kubelet: a
 * network namespace for the pod, the CNI chain (loopback, then the node's conflist), a responder
 * as the pod's only "container", and the reverse on deletion. Each step names its namespace.
 */
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {run, tryRun} from '../exec.js'
import {MARKER_FLAG, spawnDetached, stopLabProcesses} from '../processes.js'
import {cniAdd, cniDel, parseCniResult, type CniConflist, type CniOutcome} from './cni.js'

export interface SandboxContext {
  marker: string
  dir: string
  binDir: string
  responderScript: string
}

export interface SandboxPod {
  namespace: string
  name: string
  uid: string
  node: {name: string; netns: string}
  netns: string
  /** Listeners: tcp:PORT / udp:PORT from the pod's container ports. */
  listeners: string[]
}

export interface Sandbox {
  pod: SandboxPod
  cni: CniOutcome
  result: unknown
  pid: number
}

const LOOPBACK: CniConflist = {name: 'cni-loopback', cniVersion: '0.3.1', plugins: [{type: 'loopback'}]}

export function sandboxFile(dir: string, namespace: string, name: string): string {
  return join(dir, 'pods', `${namespace}_${name}.json`)
}

function request(ctx: SandboxContext, pod: SandboxPod, ifname: string): {containerId: string; podNetns: string; ifname: string; podNamespace: string; podName: string; podUid: string; binDir: string} {
  return {containerId: pod.uid, podNetns: pod.netns, ifname, podNamespace: pod.namespace, podName: pod.name, podUid: pod.uid, binDir: ctx.binDir}
}

export async function createSandbox(ctx: SandboxContext, pod: SandboxPod, conflist: CniConflist): Promise<Sandbox> {
  await mkdir(join(ctx.dir, 'pods'), {recursive: true, mode: 0o700})
  const exists = (await tryRun(['ip', 'netns', 'pids', pod.netns])).exitCode === 0
  if (!exists) await run(['ip', 'netns', 'add', pod.netns])
  await cniAdd(pod.node.netns, LOOPBACK, request(ctx, pod, 'lo'))
  const result = await cniAdd(pod.node.netns, conflist, request(ctx, pod, 'eth0'))
  const cni = parseCniResult(result)
  if (!cni) throw new Error(`CNI ADD for ${pod.namespace}/${pod.name} returned no IPv4 address`)
  const log = join(ctx.dir, 'pods', `${pod.namespace}_${pod.name}.log`)
  await writeFile(log, '', {mode: 0o600})
  // A pod without container ports has nothing to answer with: its network is all there is.
  let pid = 0
  if (pod.listeners.length > 0) {
    pid = spawnDetached(['ip', 'netns', 'exec', pod.netns, process.execPath, ctx.responderScript, MARKER_FLAG, ctx.marker, pod.name, ...pod.listeners], log)
    await waitListening(log)
  }
  const sandbox: Sandbox = {pod, cni, result, pid}
  await writeFile(sandboxFile(ctx.dir, pod.namespace, pod.name), `${JSON.stringify(sandbox, null, 2)}\n`, {mode: 0o600})
  return sandbox
}

async function waitListening(log: string): Promise<void> {
  // A hang detector, not a speed limit: a responder that cannot listen says so at once.
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const text = await readFile(log, 'utf8').catch(() => '')
    if (/^ready /m.test(text)) return
    if (text.trim() !== '') throw new Error(`responder: ${text.trim().split('\n')[0]}`)
    await sleep(25)
  }
  throw new Error(`responder did not listen within 60 s (see ${log})`)
}

/** Stop the responder, CNI DEL, remove the namespace. Carries on past failures; returns them. */
export async function removeSandbox(ctx: SandboxContext, sandbox: Pick<Sandbox, 'pod' | 'result'> & {pid?: number}, conflist: CniConflist): Promise<string[]> {
  const {pod} = sandbox
  if (sandbox.pid) await stopLabProcesses([sandbox.pid], ctx.marker)
  const errors = [...(await cniDel(pod.node.netns, conflist, request(ctx, pod, 'eth0'), sandbox.result)), ...(await cniDel(pod.node.netns, LOOPBACK, request(ctx, pod, 'lo')))]
  const del = await tryRun(['ip', 'netns', 'del', pod.netns])
  if (del.exitCode !== 0 && !/No such file/.test(del.stderr)) errors.push(`ip netns del ${pod.netns}: ${del.stderr.split('\n')[0]}`)
  await rm(sandboxFile(ctx.dir, pod.namespace, pod.name), {force: true})
  return errors
}

/** tcp:8080 udp:5353 from a pod's container ports. */
export function listenersOf(pod: {spec?: {containers?: {ports?: {containerPort?: number; protocol?: string}[]}[]}}): string[] {
  return (pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).flatMap((p) => (p.containerPort ? [`${(p.protocol ?? 'TCP').toLowerCase()}:${p.containerPort}`] : [])))
}
