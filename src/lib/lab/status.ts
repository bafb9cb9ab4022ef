/**
 * `knet lab status`: the lab as planned (nodes, pods, IPs, Services) next to what still exists
 * (each namespace, each recorded process, checked by marker). Read-only.
 */
import {KnetError} from '../report/errors.js'
import {listNetns} from './exec.js'
import {isLabNamespace, planNamespaces, validateLabName} from './plan.js'
import {isLabProcess} from './processes.js'
import {labPlanOf, labRoot, readLabState, statePath, type LabState} from './state.js'

export interface LabStatus {
  schemaVersion: 1
  name: string
  status: LabState['status']
  stateFile: string
  topology: string
  createdAt: string
  kubeconfig?: string
  /** The lab's objects as a List: `knet snapshot --objects FILE --node-access netns --netns-map …`. */
  objectsFile?: string
  nodeMap: Record<string, string>
  /** Absent for an IPv4 lab; ipv6 or dual (addresses below are the first family's, with the IPv6 ones beside them on a dual-stack lab). */
  ipFamily?: 'ipv6' | 'dual'
  nodes: {name: string; netns: string; internalIP: string; podCIDR: string; internalIP6?: string; podCIDR6?: string; present: boolean}[]
  pods: {namespace: string; name: string; node: string; netns: string; ip: string; ip6?: string; ports: string[]; present: boolean; responder: {pid: number; running: boolean} | null}[]
  services: {namespace: string; name: string; type: string; clusterIP: string; clusterIP6?: string; ports: string[]; endpoints: string[]}[]
  router: {netns: string; present: boolean}
  /** Namespaces of this lab that exist but are not in the plan (e.g. from a larger earlier build). */
  strayNamespaces: string[]
  /** Real labs (`lab up --kubernetes`): where the programs came from and kube-proxy's mode. */
  kubernetes?: {dir: string; proxyMode: string}
  /** Real labs: each upstream program and helper process, where it runs and whether it still does. */
  components?: {name: string; version: string | null; pid: number; node: string; netns: string | null; running: boolean}[]
  /** True when every planned namespace and responder (and, for a real lab, every component) exists. */
  healthy: boolean
}

export async function labStatus(name: string, root = labRoot()): Promise<LabStatus> {
  validateLabName(name)
  const state = await readLabState(name, root)
  if (!state) throw new KnetError('bad-input', `no lab named ${name}`, {suggestion: `start one with "knet lab up --name ${name}"`})
  const plan = labPlanOf(state)
  const present = new Set((await listNetns()).filter((ns) => isLabNamespace(name, ns)))
  const planned = new Set(planNamespaces(plan))
  const responders = new Map(state.processes.filter((p) => p.role === 'responder' && p.pod).map((p) => [p.pod as string, p]))

  const v6only = !plan.ipFamilies.includes(4)
  const pods: LabStatus['pods'] = []
  for (const pod of plan.pods) {
    const proc = responders.get(pod.name)
    pods.push({
      namespace: pod.namespace,
      name: pod.name,
      node: pod.node,
      netns: pod.netns,
      ...(v6only && pod.ip6 ? {ip: pod.ip6} : {ip: pod.ip, ...(pod.ip6 ? {ip6: pod.ip6} : {})}),
      ports: pod.ports.map((p) => `${p.port}/${p.protocol}`),
      present: present.has(pod.netns),
      responder: proc ? {pid: proc.pid, running: await isLabProcess(proc.pid, plan.marker)} : null,
    })
  }
  const nodes = plan.nodes.map((n) => ({
    name: n.name,
    netns: n.netns,
    ...(v6only && n.v6 ? {internalIP: n.v6.underlayIp, podCIDR: n.v6.podCIDR} : {internalIP: n.underlayIp, podCIDR: n.podCIDR, ...(n.v6 ? {internalIP6: n.v6.underlayIp, podCIDR6: n.v6.podCIDR} : {})}),
    present: present.has(n.netns),
  }))
  const components = state.kubernetes ? await componentStatus(state, plan.router.netns) : undefined
  const healthy =
    state.status === 'up' && [...planned].every((ns) => present.has(ns)) && pods.every((p) => p.responder?.running === true) && (components ?? []).every((c) => c.running)
  return {
    schemaVersion: 1,
    name,
    status: state.status,
    stateFile: statePath(name, root),
    topology: plan.params.topology,
    ...(plan.params.ipFamily && plan.params.ipFamily !== 'ipv4' ? {ipFamily: plan.params.ipFamily} : {}),
    createdAt: state.createdAt,
    ...(state.kubeconfig ? {kubeconfig: state.kubeconfig} : {}),
    ...(state.objectsFile ? {objectsFile: state.objectsFile} : {}),
    nodeMap: state.nodeMap,
    nodes,
    pods,
    services: plan.services.map((s) => ({
      namespace: s.namespace,
      name: s.name,
      type: s.type,
      ...(v6only && s.clusterIP6 ? {clusterIP: s.clusterIP6} : {clusterIP: s.clusterIP, ...(s.clusterIP6 ? {clusterIP6: s.clusterIP6} : {})}),
      ports: s.ports.map((p) => `${p.port}${p.nodePort === undefined ? '' : `:${p.nodePort}`}/${p.protocol}→${p.targetPort}`),
      endpoints: s.endpoints.map((e) => e.pod),
    })),
    router: {netns: plan.router.netns, present: present.has(plan.router.netns)},
    strayNamespaces: [...present].filter((ns) => !planned.has(ns)).sort(),
    ...(state.kubernetes ? {kubernetes: state.kubernetes} : {}),
    ...(components ? {components} : {}),
    healthy,
  }
}

async function componentStatus(state: LabState, routerNetns: string): Promise<NonNullable<LabStatus['components']>> {
  const out: NonNullable<LabStatus['components']> = []
  for (const p of state.processes) {
    if (p.role === 'responder' || p.role === 'apiserver') continue
    const name = p.component ?? (p.role === 'kubelet' ? 'hollow-kubelet' : `api-relay`)
    const node = p.node ?? (p.netns === routerNetns ? 'router' : 'host')
    out.push({name, version: p.version ?? null, pid: p.pid, node, netns: p.netns ?? null, running: await isLabProcess(p.pid, p.marker)})
  }
  return out
}

/** What `--lab NAME` on trace/doctor/snapshot needs: node access through the lab's namespaces. */
export async function labNodeAccess(name: string, root = labRoot()): Promise<{nodeMap: Map<string, string>; kubeconfig?: string}> {
  const state = await readLabState(name, root)
  if (!state) throw new KnetError('bad-input', `no lab named ${name}`, {suggestion: `start one with "knet lab up --name ${name}"`})
  return {nodeMap: new Map(Object.entries(state.nodeMap)), ...(state.kubeconfig ? {kubeconfig: state.kubeconfig} : {})}
}
