/**
 * Derived state a fault may change: the API objects (objects.json, served by the lab's API server)
 * and each node's kube-proxy nat table. Both are recomputed from the plan plus every applied
 * fault's transform, so healing one fault never undoes another that is still applied.
 */
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {KnetError} from '../../report/errors.js'
import {inNetns, run} from '../exec.js'
import {kubeProxyIptablesRules} from '../kube-proxy-rules.js'
import {kubeProxyModelFor, labObjects} from '../objects.js'
import type {Family, LabPlan, NodePlan, PodPlan} from '../plan.js'
import {MARKER_FLAG, helperScript, spawnDetached, stopLabProcesses} from '../processes.js'
import type {LabStateStore} from '../state.js'
import type {AppliedFault, Fault} from './types.js'

type Lookup = (id: string) => Fault | undefined

/** Rewrite objects.json from the plan and the applied faults, then restart the API server on it. */
export async function syncApi(plan: LabPlan, store: LabStateStore, applied: AppliedFault[], lookup: Lookup): Promise<void> {
  const state = store.current
  if (!state.objectsFile || !state.kubeconfig) return
  let objects = labObjects(plan)
  for (const a of applied) {
    const fault = lookup(a.id)
    if (fault?.objects) objects = fault.objects(objects, a, plan)
  }
  await writeFile(state.objectsFile, `${JSON.stringify({apiVersion: 'v1', kind: 'List', items: objects}, null, 2)}\n`, {mode: 0o600})
  await restartApiServer(plan, store)
}

/**
 * The stand-in server reads its objects once, so a change means a new process on the same
 * kubeconfig path (the file is rewritten with the new port and token).
 */
async function restartApiServer(plan: LabPlan, store: LabStateStore): Promise<void> {
  const state = store.current
  const old = state.processes.filter((p) => p.role === 'apiserver').map((p) => p.pid)
  await stopLabProcesses(old, plan.marker)
  await store.update((s) => (s.processes = s.processes.filter((p) => p.role !== 'apiserver')))
  const log = join(state.dir, 'api-server.log')
  await writeFile(log, '', {mode: 0o600})
  const pid = spawnDetached([process.execPath, helperScript('api-server'), MARKER_FLAG, plan.marker, state.objectsFile as string, state.kubeconfig as string], log)
  await store.update((s) => void s.processes.push({pid, role: 'apiserver', marker: plan.marker}))
  const text = await waitReady(log)
  const url = /^ready (\S+)/m.exec(text)?.[1]
  await store.update((s) => (s.apiServer = {pid, ...(url ? {url} : {})}))
}

/** Rewrite the nat table of every node from the plan and the applied faults (filter is left alone), per family. */
export async function syncNat(plan: LabPlan, applied: AppliedFault[], lookup: Lookup): Promise<void> {
  for (const node of plan.nodes) {
    for (const family of plan.ipFamilies) {
      await run(inNetns(node.netns, [family === 6 ? 'ip6tables-restore' : 'iptables-restore']), {input: natPayload(plan, node, applied, lookup, family)})
    }
  }
}

export function natPayload(plan: LabPlan, node: NodePlan, applied: AppliedFault[], lookup: Lookup, family: Family = 4): string {
  let model = kubeProxyModelFor(plan, node, family)
  for (const a of applied) {
    const fault = lookup(a.id)
    if (fault?.kubeProxy) model = fault.kubeProxy(model, node, a, plan)
  }
  // Only the nat table: restoring filter would flush other faults' filter rules and policies.
  const text = kubeProxyIptablesRules(model)
  return text.slice(text.indexOf('*nat'))
}

/** Stop a pod's responder (its workload is gone) and forget it in the state file. */
export async function stopResponder(plan: LabPlan, store: LabStateStore, pod: PodPlan): Promise<void> {
  const pids = store.current.processes.filter((p) => p.role === 'responder' && p.pod === pod.name).map((p) => p.pid)
  await stopLabProcesses(pids, plan.marker)
  await store.update((s) => (s.processes = s.processes.filter((p) => !(p.role === 'responder' && p.pod === pod.name))))
}

/** Start a pod's responder again, as `up` does. */
export async function startResponder(plan: LabPlan, store: LabStateStore, pod: PodPlan): Promise<void> {
  const log = join(store.current.dir, `${pod.name}.log`)
  await writeFile(log, '', {mode: 0o600})
  const ports = pod.ports.map((p) => `${p.protocol.toLowerCase()}:${p.port}`)
  const pid = spawnDetached(['ip', 'netns', 'exec', pod.netns, process.execPath, helperScript('responder'), MARKER_FLAG, plan.marker, pod.name, ...ports], log)
  await store.update((s) => void s.processes.push({pid, role: 'responder', netns: pod.netns, pod: pod.name, marker: plan.marker}))
  await waitReady(log)
}

async function waitReady(log: string, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const text = await readFile(log, 'utf8').catch(() => '')
    if (/^ready /m.test(text)) return text
    if (/^error /m.test(text)) throw new KnetError('command-failed', `a lab process failed: ${text.trim().split('\n')[0]}`, {suggestion: `see ${log}`})
    if (Date.now() > deadline) throw new KnetError('timeout', `a lab process did not start within ${timeoutMs} ms`, {suggestion: `see ${log}`})
    await sleep(20)
  }
}
