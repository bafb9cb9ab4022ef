/**
 * Probe sources and destinations in the words a user types — `pod/default/NAME` or `NAME`,
 * `node/NAME[:PORT]`, `svc/NS/NAME[:PORT]`, `IP[:PORT]` — resolved against the lab's plan. Pure.
 * A destination that is a Service's ClusterIP:port or a node IP:nodePort is recognised as that
 * Service whichever way it was written, so its endpoints are known.
 */
import {badInput} from '../report/errors.js'
import type {LabPlan, NodePlan, PodPlan, Protocol, ServicePlan, ServicePortPlan} from './plan.js'

export type ProbeProtocol = 'tcp' | 'udp' | 'icmp'

export interface ProbeSource {
  kind: 'pod' | 'node'
  /** pod/NS/NAME or node/NAME. */
  name: string
  netns: string
  ip: string
}

export interface ResolvedDestination {
  input: string
  kind: 'pod' | 'node' | 'service' | 'ip'
  /** pod/NS/NAME, node/NAME, svc/NS/NAME; absent for an IP that is none of these. */
  name?: string
  ip: string
  port?: number
  protocol: ProbeProtocol
  /** When the destination is a Service (ClusterIP or NodePort): which one and who may answer. */
  service?: {namespace: string; name: string; port: number; nodePort?: number; via: 'clusterIP' | 'nodePort'; endpoints: string[]}
}

function findPod(plan: LabPlan, ref: string): PodPlan | undefined {
  const parts = ref.split('/')
  const [namespace, name] = parts.length === 2 ? parts : ['default', ref]
  return plan.pods.find((p) => p.namespace === namespace && p.name === name)
}

function findNode(plan: LabPlan, name: string): NodePlan | undefined {
  return plan.nodes.find((n) => n.name === name)
}

export function resolveSource(plan: LabPlan, text: string): ProbeSource {
  if (text.startsWith('node/')) {
    const node = findNode(plan, text.slice(5))
    if (!node) throw badInput(`no node "${text.slice(5)}" in lab ${plan.params.name}`, `nodes: ${plan.nodes.map((n) => n.name).join(', ')}`)
    return {kind: 'node', name: `node/${node.name}`, netns: node.netns, ip: node.underlayIp}
  }
  const ref = text.startsWith('pod/') ? text.slice(4) : text
  const pod = findPod(plan, ref)
  if (!pod) throw badInput(`no pod "${ref}" in lab ${plan.params.name}`, `pods: ${plan.pods.map((p) => p.name).join(', ')}`)
  return {kind: 'pod', name: `pod/${pod.namespace}/${pod.name}`, netns: pod.netns, ip: pod.ip}
}

/** Split "X:PORT" (the last colon; no IPv6 in the lab). */
function splitPort(text: string): {ref: string; port?: number} {
  const m = /^(.*):(\d{1,5})$/.exec(text)
  if (!m) return {ref: text}
  const port = Number(m[2])
  if (port < 1 || port > 65535) throw badInput(`port ${port} is out of range 1–65535`)
  return {ref: m[1] as string, port}
}

function toProtocol(p: Protocol): ProbeProtocol {
  return p === 'UDP' ? 'udp' : 'tcp'
}

function pickServicePort(svc: ServicePlan, port: number | undefined, protocol: ProbeProtocol | undefined): ServicePortPlan | undefined {
  const candidates = svc.ports.filter((p) => (port === undefined || p.port === port) && (protocol === undefined || protocol === 'icmp' || toProtocol(p.protocol) === protocol))
  return candidates[0]
}

function serviceInfo(svc: ServicePlan, sp: ServicePortPlan, via: 'clusterIP' | 'nodePort'): NonNullable<ResolvedDestination['service']> {
  return {
    namespace: svc.namespace,
    name: svc.name,
    port: sp.port,
    ...(sp.nodePort === undefined ? {} : {nodePort: sp.nodePort}),
    via,
    endpoints: svc.endpoints.map((e) => e.pod),
  }
}

/** The Service a raw ip:port stands for, if any (ClusterIP:port, or a node IP:nodePort). */
function serviceAt(plan: LabPlan, ip: string, port: number | undefined, protocol: ProbeProtocol): ResolvedDestination['service'] {
  if (port === undefined) return undefined
  for (const svc of plan.services) {
    if (svc.clusterIP === ip) {
      const sp = svc.ports.find((p) => p.port === port && toProtocol(p.protocol) === protocol)
      if (sp) return serviceInfo(svc, sp, 'clusterIP')
    }
    if (plan.nodes.some((n) => n.underlayIp === ip)) {
      const sp = svc.ports.find((p) => p.nodePort === port && toProtocol(p.protocol) === protocol)
      if (sp) return serviceInfo(svc, sp, 'nodePort')
    }
  }
  return undefined
}

export function resolveDestination(plan: LabPlan, text: string, protocol?: ProbeProtocol): ResolvedDestination {
  const {ref, port} = splitPort(text)
  if (ref.startsWith('svc/') || ref.startsWith('service/')) {
    const parts = ref.split('/').slice(1)
    const [namespace, name] = parts.length === 2 ? parts : ['default', parts[0] ?? '']
    const svc = plan.services.find((s) => s.namespace === namespace && s.name === name)
    if (!svc) throw badInput(`no Service "${namespace}/${name}" in lab ${plan.params.name}`, `Services: ${plan.services.map((s) => `${s.namespace}/${s.name}`).join(', ')}`)
    const sp = pickServicePort(svc, port, protocol)
    if (!sp) throw badInput(`Service ${namespace}/${name} has no ${protocol ?? ''} port ${port ?? ''}`.replace(/\s+/g, ' '), `ports: ${svc.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')}`)
    const proto = protocol ?? toProtocol(sp.protocol)
    return {input: text, kind: 'service', name: `svc/${namespace}/${name}`, ip: svc.clusterIP, port: sp.port, protocol: proto, service: serviceInfo(svc, sp, 'clusterIP')}
  }
  if (ref.startsWith('node/')) {
    const node = findNode(plan, ref.slice(5))
    if (!node) throw badInput(`no node "${ref.slice(5)}" in lab ${plan.params.name}`, `nodes: ${plan.nodes.map((n) => n.name).join(', ')}`)
    const proto = protocol ?? (port === undefined ? 'icmp' : nodePortProtocol(plan, port))
    return withService(plan, {input: text, kind: 'node', name: `node/${node.name}`, ip: node.underlayIp, protocol: proto, ...(port === undefined ? {} : {port})})
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ref)) {
    const proto = protocol ?? (port === undefined ? 'icmp' : ipProtocol(plan, ref, port))
    const pod = plan.pods.find((p) => p.ip === ref)
    const node = plan.nodes.find((n) => n.underlayIp === ref)
    const base: ResolvedDestination = {input: text, kind: 'ip', ip: ref, protocol: proto, ...(port === undefined ? {} : {port})}
    if (pod) Object.assign(base, {kind: 'pod', name: `pod/${pod.namespace}/${pod.name}`})
    else if (node) Object.assign(base, {kind: 'node', name: `node/${node.name}`})
    return withService(plan, base)
  }
  const podRef = ref.startsWith('pod/') ? ref.slice(4) : ref
  const pod = findPod(plan, podRef)
  if (!pod) throw badInput(`"${text}" is not a pod, node/NAME, svc/NS/NAME or IP of lab ${plan.params.name}`, `pods: ${plan.pods.map((p) => p.name).join(', ')}`)
  const proto = protocol ?? (port === undefined ? 'tcp' : (toProtocol(pod.ports.find((p) => p.port === port)?.protocol ?? 'TCP')))
  const chosen = port ?? (proto === 'icmp' ? undefined : pod.ports.find((p) => toProtocol(p.protocol) === proto)?.port)
  if (proto !== 'icmp' && chosen === undefined) throw badInput(`pod ${pod.name} has no ${proto} port; give one as ${pod.name}:PORT`)
  return {input: text, kind: 'pod', name: `pod/${pod.namespace}/${pod.name}`, ip: pod.ip, protocol: proto, ...(chosen === undefined || proto === 'icmp' ? {} : {port: chosen})}
}

function withService(plan: LabPlan, dest: ResolvedDestination): ResolvedDestination {
  const service = serviceAt(plan, dest.ip, dest.port, dest.protocol)
  return service ? {...dest, service} : dest
}

function nodePortProtocol(plan: LabPlan, port: number): ProbeProtocol {
  const sp = plan.services.flatMap((s) => s.ports).find((p) => p.nodePort === port)
  return sp ? toProtocol(sp.protocol) : 'tcp'
}

function ipProtocol(plan: LabPlan, ip: string, port: number): ProbeProtocol {
  const svc = plan.services.find((s) => s.clusterIP === ip)
  const sp = svc?.ports.find((p) => p.port === port)
  if (sp) return toProtocol(sp.protocol)
  const pod = plan.pods.find((p) => p.ip === ip)
  const pp = pod?.ports.find((p) => p.port === port)
  if (pp) return toProtocol(pp.protocol)
  return nodePortProtocol(plan, port)
}
