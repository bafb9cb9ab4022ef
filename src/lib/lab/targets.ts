/**
 * Probe sources and destinations in the words a user types — `pod/default/NAME` or `NAME`,
 * `node/NAME[:PORT]`, `svc/NS/NAME[:PORT]`, `IP[:PORT]` — resolved against the lab's plan. Pure.
 * A destination that is a Service's ClusterIP:port or a node IP:nodePort is recognised as that
 * Service whichever way it was written, so its endpoints are known.
 */
import {isIPv4, isIPv6} from 'node:net'
import {badInput} from '../report/errors.js'
import type {Family, LabPlan, NodePlan, PodPlan, Protocol, ServicePlan, ServicePortPlan} from './plan.js'
import {nodeIpOf, podIpOf} from './plan-ipv6.js'

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

/** The family a probe uses: the one asked for, else the lab's primary one; one the lab lacks is bad input. */
export function probeFamily(plan: LabPlan, family?: Family): Family {
  const families = plan.ipFamilies ?? [4]
  if (family === undefined) return families[0] ?? 4
  if (!families.includes(family)) throw badInput(`lab ${plan.params.name} has no IPv${family} (its families: ${families.map((f) => `IPv${f}`).join(', ')})`)
  return family
}

/** The source in `family` (the lab's primary one by default): its address in that family. */
export function resolveSource(plan: LabPlan, text: string, family?: Family): ProbeSource {
  const f = probeFamily(plan, family)
  if (text.startsWith('node/')) {
    const node = findNode(plan, text.slice(5))
    if (!node) throw badInput(`no node "${text.slice(5)}" in lab ${plan.params.name}`, `nodes: ${plan.nodes.map((n) => n.name).join(', ')}`)
    return {kind: 'node', name: `node/${node.name}`, netns: node.netns, ip: nodeIpOf(node, f) ?? node.underlayIp}
  }
  const ref = text.startsWith('pod/') ? text.slice(4) : text
  const pod = findPod(plan, ref)
  if (!pod) throw badInput(`no pod "${ref}" in lab ${plan.params.name}`, `pods: ${plan.pods.map((p) => p.name).join(', ')}`)
  return {kind: 'pod', name: `pod/${pod.namespace}/${pod.name}`, netns: pod.netns, ip: podIpOf(pod, f) ?? pod.ip}
}

/**
 * Split "X:PORT" (the last colon) or "[IPv6]:PORT". An unbracketed IPv6 address has no port, unless
 * it is not one of the lab's addresses and what precedes its last colon is ("fd00:10:96::80:80",
 * as a caller that did not bracket it wrote the ClusterIP fd00:10:96::80 and port 80).
 */
function splitPort(text: string, plan: LabPlan): {ref: string; port?: number} {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(text)
  if (bracketed) return bracketed[2] === undefined ? {ref: bracketed[1] as string} : {ref: bracketed[1] as string, port: checkPort(Number(bracketed[2]))}
  const m = /^(.*):(\d{1,5})$/.exec(text)
  if (isIPv6(text) && !(m && !labOwns(plan, text) && labOwns(plan, m[1] as string))) return {ref: text}
  if (!m) return {ref: text}
  return {ref: m[1] as string, port: checkPort(Number(m[2]))}
}

function checkPort(port: number): number {
  if (port < 1 || port > 65535) throw badInput(`port ${port} is out of range 1–65535`)
  return port
}

const familyOfIp = (ip: string): Family => (ip.includes(':') ? 6 : 4)

/** Whether an IPv6 address is a pod's, node's or Service's in the lab (compared as written by the plan). */
function labOwns(plan: LabPlan, ip: string): boolean {
  return plan.pods.some((p) => p.ip6 === ip) || plan.nodes.some((n) => n.v6?.underlayIp === ip) || plan.services.some((s) => s.clusterIP6 === ip)
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
    if (svc.clusterIP === ip || svc.clusterIP6 === ip) {
      const sp = svc.ports.find((p) => p.port === port && toProtocol(p.protocol) === protocol)
      if (sp) return serviceInfo(svc, sp, 'clusterIP')
    }
    if (plan.nodes.some((n) => n.underlayIp === ip || n.v6?.underlayIp === ip)) {
      const sp = svc.ports.find((p) => p.nodePort === port && toProtocol(p.protocol) === protocol)
      if (sp) return serviceInfo(svc, sp, 'nodePort')
    }
  }
  return undefined
}

/**
 * `family` picks the address of a pod, node or Service named by name (default: the lab's primary
 * family); an address given as such is in its own family, and a family that contradicts it is bad input.
 */
export function resolveDestination(plan: LabPlan, text: string, protocol?: ProbeProtocol, family?: Family): ResolvedDestination {
  const {ref, port} = splitPort(text, plan)
  const literal = isIPv4(ref) || isIPv6(ref)
  if (literal && family !== undefined && familyOfIp(ref) !== family) throw badInput(`${text} is an IPv${familyOfIp(ref)} address, not IPv${family}`)
  const f = literal ? familyOfIp(ref) : probeFamily(plan, family)
  if (ref.startsWith('svc/') || ref.startsWith('service/')) {
    const parts = ref.split('/').slice(1)
    const [namespace, name] = parts.length === 2 ? parts : ['default', parts[0] ?? '']
    const svc = plan.services.find((s) => s.namespace === namespace && s.name === name)
    if (!svc) throw badInput(`no Service "${namespace}/${name}" in lab ${plan.params.name}`, `Services: ${plan.services.map((s) => `${s.namespace}/${s.name}`).join(', ')}`)
    const sp = pickServicePort(svc, port, protocol)
    if (!sp) throw badInput(`Service ${namespace}/${name} has no ${protocol ?? ''} port ${port ?? ''}`.replace(/\s+/g, ' '), `ports: ${svc.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')}`)
    const proto = protocol ?? toProtocol(sp.protocol)
    const clusterIP = f === 6 ? svc.clusterIP6 : svc.clusterIP
    if (clusterIP === undefined) throw badInput(`Service ${namespace}/${name} has no IPv${f} ClusterIP`)
    return {input: text, kind: 'service', name: `svc/${namespace}/${name}`, ip: clusterIP, port: sp.port, protocol: proto, service: serviceInfo(svc, sp, 'clusterIP')}
  }
  if (ref.startsWith('node/')) {
    const node = findNode(plan, ref.slice(5))
    if (!node) throw badInput(`no node "${ref.slice(5)}" in lab ${plan.params.name}`, `nodes: ${plan.nodes.map((n) => n.name).join(', ')}`)
    const proto = protocol ?? (port === undefined ? 'icmp' : nodePortProtocol(plan, port))
    return withService(plan, {input: text, kind: 'node', name: `node/${node.name}`, ip: nodeIpOf(node, f) ?? node.underlayIp, protocol: proto, ...(port === undefined ? {} : {port})})
  }
  if (literal) {
    const proto = protocol ?? (port === undefined ? 'icmp' : ipProtocol(plan, ref, port))
    const pod = plan.pods.find((p) => p.ip === ref || p.ip6 === ref)
    const node = plan.nodes.find((n) => n.underlayIp === ref || n.v6?.underlayIp === ref)
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
  const ip = podIpOf(pod, f)
  if (ip === undefined) throw badInput(`pod ${pod.name} has no IPv${f} address`)
  return {input: text, kind: 'pod', name: `pod/${pod.namespace}/${pod.name}`, ip, protocol: proto, ...(chosen === undefined || proto === 'icmp' ? {} : {port: chosen})}
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
  const svc = plan.services.find((s) => s.clusterIP === ip || s.clusterIP6 === ip)
  const sp = svc?.ports.find((p) => p.port === port)
  if (sp) return toProtocol(sp.protocol)
  const pod = plan.pods.find((p) => p.ip === ip || p.ip6 === ip)
  const pp = pod?.ports.find((p) => p.port === port)
  if (pp) return toProtocol(pp.protocol)
  return nodePortProtocol(plan, port)
}
