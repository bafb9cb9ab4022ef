import {arr, buildEach, ipText, defined, intOrString, meta, num, protocol, rec, str, type ModelProblem, type Protocol} from './read.js'

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

export function podOf(obj: unknown, i: number, problems: ModelProblem[]): PodModel | undefined {
  const m = meta(obj)
  if (!m) return void problems.push({subject: `pods[${i}]`, message: 'pod without metadata.name ignored'})
  const spec = rec(rec(obj).spec)
  const status = rec(rec(obj).status)
  const listed = defined(arr(status.podIPs).map((p) => str(rec(p).ip) || undefined))
  const single = str(status.podIP)
  const podIPs = (listed.length === 0 && single ? [single] : listed).map(ipText)
  const readyCondition = arr(status.conditions).map(rec).find((c) => c.type === 'Ready')
  const containers = arr(spec.containers).map((c) => {
    const r = rec(c)
    const ports = defined(
      arr(r.ports).map((p): ContainerPort | undefined => {
        const pr = rec(p)
        const containerPort = intOrString(pr.containerPort)
        if (typeof containerPort !== 'number') {
          problems.push({subject: `pod ${m.namespace}/${m.name}`, message: `container ${str(r.name) ?? '?'}: port without a numeric containerPort ignored`})
          return undefined
        }
        const name = str(pr.name)
        const hostPort = num(pr.hostPort)
        return {...(name ? {name} : {}), containerPort, protocol: protocol(pr.protocol), ...(hostPort ? {hostPort} : {})}
      }),
    )
    return {name: str(r.name) ?? '', ports}
  })
  const hostIP = str(status.hostIP)
  const node = str(spec.nodeName)
  return {
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
  }
}
