import {arr, byKey, intOrString, meta, num, protocol, rec, str, type ModelProblem, type Protocol} from './read.js'

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

export function buildPods(raw: readonly unknown[], problems: ModelProblem[]): PodModel[] {
  const out: PodModel[] = []
  raw.forEach((obj, i) => {
    const m = meta(obj)
    if (!m) return void problems.push({subject: `pods[${i}]`, message: 'pod without metadata.name ignored'})
    const spec = rec(rec(obj).spec)
    const status = rec(rec(obj).status)
    const podIPs = arr(status.podIPs)
      .map((p) => str(rec(p).ip))
      .filter((ip): ip is string => Boolean(ip))
    const single = str(status.podIP)
    if (podIPs.length === 0 && single) podIPs.push(single)
    const readyCondition = arr(status.conditions).map(rec).find((c) => c.type === 'Ready')
    const containers = arr(spec.containers).map((c) => {
      const r = rec(c)
      const ports: ContainerPort[] = []
      for (const p of arr(r.ports)) {
        const pr = rec(p)
        const containerPort = intOrString(pr.containerPort)
        if (typeof containerPort !== 'number') {
          problems.push({subject: `pod ${m.namespace}/${m.name}`, message: `container ${str(r.name) ?? '?'}: port without a numeric containerPort ignored`})
          continue
        }
        const name = str(pr.name)
        const hostPort = num(pr.hostPort)
        ports.push({...(name ? {name} : {}), containerPort, protocol: protocol(pr.protocol), ...(hostPort ? {hostPort} : {})})
      }
      return {name: str(r.name) ?? '', ports}
    })
    const hostIP = str(status.hostIP)
    const node = str(spec.nodeName)
    out.push({
      namespace: m.namespace,
      name: m.name,
      labels: m.labels,
      podIPs,
      ...(hostIP ? {hostIP} : {}),
      ...(node ? {node} : {}),
      hostNetwork: spec.hostNetwork === true,
      phase: str(status.phase) ?? 'Unknown',
      ...(readyCondition ? {ready: readyCondition.status === 'True'} : {}),
      containers,
    })
  })
  return out.sort(byKey)
}
