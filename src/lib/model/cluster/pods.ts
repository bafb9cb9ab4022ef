import {arr, buildEach, ipText, defined, intOrString, meta, num, protocol, rec, str, type ModelProblem, type Protocol, type Raw} from './read.js'

export interface ContainerPort {
  name?: string
  containerPort: number
  protocol: Protocol
  hostPort?: number
}

export interface PodModel {
  namespace: string
  name: string
  labels: Record<string, string>
  /** status.podIPs, falling back to status.podIP; empty until the pod has a sandbox. */
  podIPs: string[]
  hostIP?: string
  node?: string
  hostNetwork: boolean
  phase: string
  /** The Ready condition, when reported. */
  ready?: boolean
  containers: {name: string; ports: ContainerPort[]}[]
}

export function buildPods(raw: unknown[], problems: ModelProblem[], release = false): PodModel[] {
  return buildEach(raw, (obj, i) => podOf(obj, i, problems), release)
}

/**
 * Written as plain loops and literals, without spreads of optional fields or map/find chains: doctor
 * reads every pod of the cluster this way (30,000 on the benchmark's cluster), and the spreads were
 * most of its cost. test/lib/model/cluster-builders.test.ts checks it against a plain reading.
 */
export function podOf(obj: unknown, i: number, problems: ModelProblem[]): PodModel | undefined {
  const m = meta(obj)
  if (!m) return void problems.push({subject: `pods[${i}]`, message: 'pod without metadata.name ignored'})
  const spec = rec(rec(obj).spec)
  const status = rec(rec(obj).status)
  const podIPs = podIPsOf(status)
  const containers = arr(spec.containers).map((c) => containerOf(c, m.namespace, m.name, problems))
  const hostIP = str(status.hostIP)
  const node = str(spec.nodeName)
  const hostNetwork = spec.hostNetwork === true
  const phase = str(status.phase) ?? 'Unknown'
  const ready = readyOf(status.conditions)
  // The usual pod as one literal: its fields are held in the object itself (fields added after a
  // literal go to a separate store, slower to read for every check that walks the pods).
  if (hostIP && node && ready !== undefined) return {namespace: m.namespace, name: m.name, labels: m.labels, podIPs, hostIP, node, hostNetwork, phase, ready, containers}
  // Otherwise built in the same key order by assignment.
  const out = {namespace: m.namespace, name: m.name, labels: m.labels, podIPs} as PodModel
  if (hostIP) out.hostIP = hostIP
  if (node) out.node = node
  out.hostNetwork = hostNetwork
  out.phase = phase
  if (ready !== undefined) out.ready = ready
  out.containers = containers
  return out
}

/** status.podIPs' addresses, or status.podIP when none is listed. */
function podIPsOf(status: Raw): string[] {
  const listed = status.podIPs
  if (Array.isArray(listed) && listed.length === 1) {
    // One address: the usual pod, read without the intermediate arrays below.
    const ip = str(rec(listed[0]).ip)
    if (ip) return [ipText(ip)]
  }
  const ips = defined(arr(listed).map((p) => str(rec(p).ip) || undefined))
  const single = str(status.podIP)
  return (ips.length === 0 && single ? [single] : ips).map(ipText)
}

/** The Ready condition's status (the first Ready condition), undefined when none is reported. */
function readyOf(conditions: unknown): boolean | undefined {
  if (!Array.isArray(conditions)) return undefined
  for (const c of conditions) {
    const r = rec(c)
    if (r.type === 'Ready') return r.status === 'True'
  }
  return undefined
}

function containerOf(c: unknown, namespace: string, name: string, problems: ModelProblem[]): {name: string; ports: ContainerPort[]} {
  const r = rec(c)
  const ports = defined(
    arr(r.ports).map((p): ContainerPort | undefined => {
      const pr = rec(p)
      const containerPort = intOrString(pr.containerPort)
      if (typeof containerPort !== 'number') {
        problems.push({subject: `pod ${namespace}/${name}`, message: `container ${str(r.name) ?? '?'}: port without a numeric containerPort ignored`})
        return undefined
      }
      const portName = str(pr.name)
      const out: ContainerPort = portName ? {name: portName, containerPort, protocol: protocol(pr.protocol)} : {containerPort, protocol: protocol(pr.protocol)}
      const hostPort = num(pr.hostPort)
      if (hostPort) out.hostPort = hostPort
      return out
    }),
  )
  return {name: str(r.name) ?? '', ports}
}
