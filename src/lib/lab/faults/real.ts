/**
 * Faults on a real lab (`lab up --kubernetes`): what the faults share when real controllers run.
 * A controller that would repair a fault at once (flanneld re-adding a route, kube-proxy resyncing
 * its rules) is first made to hang (SIGSTOP) while the world changes, as in the incidents the
 * faults stand for; heal lets it go (SIGCONT, or a restart) and waits, with a deadline, until it has
 * repaired what it owns. API changes go through the real API server (the hollow kubelet and the
 * real controllers do the rest).
 */
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {KubernetesObjectApi, PatchStrategy} from '@kubernetes/client-node'
import {KnetError} from '../../report/errors.js'
import {tryRun} from '../exec.js'
import type {LabPlan, NodePlan, PodPlan} from '../plan.js'
import {MARKER_ENV, isLabProcess, readCmdline, spawnDetached, stopLabProcesses} from '../processes.js'
import {labPlanOf, type LabProcess, type LabStateStore} from '../state.js'
import {labApi, type LabApi, type Obj} from '../real/api.js'
import type {ProxyMode} from '../real/configs.js'
import {responderPid} from '../real/kubelet-status.js'
import {podManifest} from '../real/manifests.js'
import {sandboxFile, type Sandbox} from '../real/pod-sandbox.js'
import {dnatTargets, proxyRulesetArgv} from '../real/readiness.js'
import type {RealMode} from './types.js'

/** What a fault needs to act on a real lab. */
export interface RealLab {
  api: LabApi
  proxyMode: ProxyMode
  dir: string
}

export function realLabOf(state: {kubeconfig?: string; kubernetes?: {proxyMode: ProxyMode}; dir: string}): RealLab | undefined {
  if (!state.kubernetes || !state.kubeconfig) return undefined
  return {api: labApi(state.kubeconfig), proxyMode: state.kubernetes.proxyMode, dir: state.dir}
}

/** How long heal waits for a controller to repair what it owns (a loaded CI machine is slow). */
export const REPAIR_DEADLINE_MS = 300_000

/** Poll until `missing` returns nothing; a KnetError timeout naming what is still missing. */
export async function waitUntil(what: string, missing: () => Promise<string[]>, timeoutMs = REPAIR_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let last: string[]
    try {
      last = await missing()
    } catch (error) {
      last = [(error as Error).message]
    }
    if (last.length === 0) return
    if (Date.now() > deadline) throw new KnetError('timeout', `waited ${Math.round(timeoutMs / 1000)} s for ${what}: ${last.slice(0, 3).join('; ')}`)
    await sleep(200)
  }
}

/** The recorded processes of one upstream program, on the given nodes (all when omitted). */
export function componentProcesses(store: LabStateStore, component: string, nodes?: string[]): LabProcess[] {
  return store.current.processes.filter((p) => p.component === component && (nodes === undefined || (p.node !== undefined && nodes.includes(p.node))))
}

/** SIGSTOP or SIGCONT, each only after the marker proves the process is the lab's. Returns the pids signalled. */
export async function signalComponent(store: LabStateStore, marker: string, component: string, nodes: string[] | undefined, signal: 'SIGSTOP' | 'SIGCONT'): Promise<number[]> {
  const done: number[] = []
  for (const p of componentProcesses(store, component, nodes)) {
    if (!(await isLabProcess(p.pid, marker))) continue
    try {
      process.kill(p.pid, signal)
      done.push(p.pid)
    } catch {
      // gone meanwhile
    }
  }
  if (signal === 'SIGSTOP' && done.length === 0) throw new KnetError('command-failed', `no running ${component}${nodes ? ` on ${nodes.join(', ')}` : ''} to stop`)
  return done
}

/**
 * Stop a node program and start it again with the argv and environment it had (what a DaemonSet
 * does after the container exits); the state file then records the new pid.
 */
export async function restartComponent(store: LabStateStore, marker: string, component: string, node: NodePlan): Promise<number> {
  const [old] = componentProcesses(store, component, [node.name])
  if (!old) throw new KnetError('command-failed', `lab has no ${component} on ${node.name}`)
  const argv = await readCmdline(old.pid)
  const environ = await readFile(`/proc/${old.pid}/environ`, 'utf8').catch(() => '')
  if (!argv || !(await isLabProcess(old.pid, marker))) throw new KnetError('command-failed', `${component} on ${node.name} (pid ${old.pid}) is not running`)
  const env: Record<string, string> = {}
  for (const kv of environ.split('\0')) {
    const i = kv.indexOf('=')
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1)
  }
  await stopLabProcesses([old.pid], marker)
  const log = join(store.current.dir, node.name, `${component}.log`)
  const pid = spawnDetached(['ip', 'netns', 'exec', node.netns, ...argv], log, {...env, [MARKER_ENV]: marker})
  await store.update((s) => void (s.processes = [...s.processes.filter((p) => p.pid !== old.pid), {...old, pid}]))
  return pid
}

/** A node's kube-proxy ruleset (nat table, or its nftables table). */
export async function proxyRuleset(real: RealLab, node: NodePlan): Promise<string> {
  return (await tryRun(proxyRulesetArgv(node.netns, real.proxyMode))).stdout
}

/** Nodes whose kube-proxy still DNATs to ip (any port). */
export async function nodesDnatingTo(real: RealLab, nodes: NodePlan[], ip: string): Promise<string[]> {
  const out: string[] = []
  for (const node of nodes) if ([...dnatTargets(real.proxyMode, await proxyRuleset(real, node))].some((t) => t.startsWith(`${ip}:`))) out.push(node.name)
  return out
}

interface PodObj extends Obj {
  status?: {phase?: string; podIP?: string}
}

/** Delete a Pod through the API and wait until it is gone (the hollow kubelet ran CNI DEL and removed its namespace). */
export async function deletePod(real: RealLab, store: LabStateStore, pod: PodPlan): Promise<void> {
  await real.api.remove('v1', 'Pod', pod.name, pod.namespace)
  await waitUntil(`pod ${pod.namespace}/${pod.name} to be deleted`, async () => ((await real.api.read('v1', 'Pod', pod.name, pod.namespace)) ? [`${pod.namespace}/${pod.name} still exists`] : []))
  await store.update((s) => void (s.processes = s.processes.filter((p) => !(p.role === 'responder' && p.pod === pod.name))))
}

/**
 * Create a plan Pod through the API again and wait until it runs; its new address, MAC and host
 * veth (host-local and the bridge plugin choose them afresh) become the realised plan's.
 */
export async function recreatePod(real: RealLab, store: LabStateStore, pod: PodPlan): Promise<LabPlan> {
  await real.api.ensure(podManifest(pod) as Obj)
  let running: PodObj | undefined
  await waitUntil(`pod ${pod.namespace}/${pod.name} to run`, async () => {
    running = (await real.api.read('v1', 'Pod', pod.name, pod.namespace)) as PodObj | undefined
    return running?.status?.phase === 'Running' && running.status.podIP ? [] : [`${pod.namespace}/${pod.name} is ${running?.status?.phase ?? 'absent'} (see ${join(real.dir, 'hollow-kubelet.log')})`]
  })
  const sandbox = JSON.parse(await readFile(sandboxFile(real.dir, pod.namespace, pod.name), 'utf8')) as Sandbox
  const pid = responderPid(running as never) ?? sandbox.pid
  await store.update((s) => {
    if (!s.namespaces.includes(sandbox.pod.netns)) s.namespaces.push(sandbox.pod.netns)
    s.processes = s.processes.filter((p) => !(p.role === 'responder' && p.pod === pod.name))
    if (pid) s.processes.push({pid, role: 'responder', netns: sandbox.pod.netns, pod: pod.name, marker: s.prefix})
    const pods = {...s.realised?.pods, [pod.name]: {ip: sandbox.cni.ip, ...(sandbox.cni.ip6 ? {ip6: sandbox.cni.ip6} : {}), ...(sandbox.cni.mac ? {mac: sandbox.cni.mac} : {}), ...(sandbox.cni.hostVeth ? {hostVeth: sandbox.cni.hostVeth} : {})}}
    s.realised = {...s.realised, pods}
  })
  return labPlanOf(store.current)
}

/** A merge patch of a Pod's labels (null removes one), as `kubectl label` sends it. */
export async function patchPodLabels(real: RealLab, pod: PodPlan, labels: Record<string, string | null>): Promise<void> {
  const objects = KubernetesObjectApi.makeApiClient(real.api.kubeconfig)
  await objects.patch({apiVersion: 'v1', kind: 'Pod', metadata: {name: pod.name, namespace: pod.namespace, labels}} as never, undefined, undefined, 'knet-lab', undefined, PatchStrategy.MergePatch)
}

interface RouteJson {
  dst?: string
  gateway?: string
  dev?: string
}

/**
 * What flanneld on a node has not (re)programmed yet: each planned route to another node's pod
 * CIDR, exactly; with VXLAN, each remote VTEP's FDB entry at its node's address and nowhere else.
 */
export async function flannelMissing(node: NodePlan): Promise<string[]> {
  const missing: string[] = []
  const routes: Record<4 | 6, RouteJson[]> = {4: [], 6: []}
  for (const family of [4, 6] as const) {
    if (!node.routes.some((r) => r.purpose === 'pod-cidr' && (r.family ?? 4) === family)) continue
    routes[family] = JSON.parse((await tryRun(['ip', `-${family}`, '-n', node.netns, '-j', 'route', 'show'])).stdout || '[]') as RouteJson[]
  }
  for (const r of node.routes.filter((x) => x.purpose === 'pod-cidr')) {
    const have = routes[r.family ?? 4].filter((x) => x.dst === r.dst)
    if (have.length !== 1 || have[0]?.gateway !== r.via || have[0]?.dev !== r.dev) missing.push(`${node.name}: route ${r.dst} via ${r.via} dev ${r.dev} (have: ${have.map((x) => `${x.gateway ?? ''} ${x.dev ?? ''}`).join('; ') || 'none'})`)
  }
  // One listing per VXLAN device (flannel.1, and flannel-v6.1 on a dual-stack lab).
  for (const dev of new Set(node.fdb.map((f) => f.dev))) {
    const fdb = (await tryRun(['bridge', '-n', node.netns, 'fdb', 'show', 'dev', dev])).stdout.split('\n')
    for (const f of node.fdb.filter((x) => x.dev === dev)) {
      const dsts = fdb.filter((l) => l.startsWith(`${f.mac} `)).map((l) => /\bdst (\S+)/.exec(l)?.[1])
      if (dsts.length !== 1 || dsts[0] !== f.dst) missing.push(`${node.name}: fdb ${f.mac} dst ${f.dst} (have: ${dsts.join(', ') || 'none'})`)
    }
  }
  return missing
}

/**
 * Real mode for a fault on state flanneld owns on a node: flanneld there hangs first (SIGSTOP), then
 * the emulated break changes the state; heal runs the recorded undo where it is not flanneld's to
 * repair, restarts flanneld (its startup programs every route, neighbour and FDB entry; with VXLAN
 * nothing else would re-check them) and waits until it has.
 */
export function withFlannelStopped(does: string, options: {undoFirst?: boolean; alsoMissing?: (node: NodePlan) => Promise<string[]>} = {}): RealMode {
  return {
    does,
    async break(ctx, emulated) {
      const node = ctx.node
      if (!node) throw new KnetError('bad-input', 'give --node NAME')
      await signalComponent(ctx.store, ctx.plan.marker, 'flanneld', [node.name], 'SIGSTOP')
      try {
        return await emulated()
      } catch (error) {
        await signalComponent(ctx.store, ctx.plan.marker, 'flanneld', [node.name], 'SIGCONT')
        throw error
      }
    },
    async heal(ctx, applied, emulated) {
      const node = ctx.plan.nodes.find((n) => n.name === applied.node)
      if (!node) throw new KnetError('bad-input', `no node ${applied.node}`)
      if (options.undoFirst) await emulated()
      await restartComponent(ctx.store, ctx.plan.marker, 'flanneld', node)
      await waitUntil(`flanneld on ${node.name} to repair its routes`, async () => [...(await flannelMissing(node)), ...((await options.alsoMissing?.(node)) ?? [])])
    },
  }
}

/** Whether a ruleset names this address (not merely one it is a prefix of: 10.96.0.8 is not in 10.96.0.80). */
export function mentions(ruleset: string, ip: string): boolean {
  return new RegExp(`(?<![\\d.])${ip.replace(/\./g, '\\.')}(?!\\d)`).test(ruleset)
}
