/**
 * SRC and DST as the user writes them (`pod/NS/NAME`, `NS/NAME`, `NAME`, `svc/NS/NAME:PORT`,
 * `node/NAME`, `10.96.0.10:53`, `[fd00::10]:80`), resolved against the cluster model: a raw IP becomes
 * the pod, Service or node that owns it; an address nobody owns is external. One trace is one address
 * family: the destination decides it (an address's own, a Service's first ClusterIP, a pod's first
 * IP) unless --ip-family chooses, and the source is resolved in that family.
 */
import type {ClusterModel, NodeModel, PodModel, ServiceModel, ServicePort} from '../model/cluster.js'
import {parseIp, type Family} from '../net/cidr.js'
import {badInput} from '../report/errors.js'
import type {TraceEndpoint, TraceEvidence, TraceProtocol} from './types.js'

export interface EndpointSpec {
  input: string
  kind: 'pod' | 'service' | 'node' | 'ip'
  namespace?: string
  name?: string
  ip?: string
  port?: number
  portName?: string
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i

function splitPort(text: string): {base: string; port?: number; portName?: string} {
  const colon = text.lastIndexOf(':')
  if (colon < 0) return {base: text}
  const base = text.slice(0, colon)
  const p = text.slice(colon + 1)
  if (/^\d+$/.test(p)) {
    const port = Number(p)
    if (port < 1 || port > 65535) throw badInput(`"${text}": port ${p} is not 1–65535`)
    return {base, port}
  }
  if (NAME.test(p)) return {base, portName: p}
  throw badInput(`"${text}": "${p}" is not a port number or name`)
}

export function parseEndpoint(input: string, defaultNamespace: string): EndpointSpec {
  const text = input.trim()
  if (text === '') throw badInput('an endpoint is empty')
  // A bare IPv4 address, with an optional :PORT.
  const ipv4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(text)
  if (ipv4?.[1]) {
    const ip = parseIp(ipv4[1])
    if (!ip) throw badInput(`"${text}" is not an IP address`)
    const port = ipv4[2] === undefined ? undefined : Number(ipv4[2])
    if (port !== undefined && (port < 1 || port > 65535)) throw badInput(`"${text}": port ${ipv4[2]} is not 1–65535`)
    return {input: text, kind: 'ip', ip: ip.text, ...(port === undefined ? {} : {port})}
  }
  // An IPv6 literal: bare, or in brackets with an optional :PORT ("[fd00::10]:80"), as in URLs.
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  const v6Text = bracketed ? bracketed[1] : text.includes(':') && !text.includes('/') && parseIp(text)?.family === 6 ? text : undefined
  if (v6Text !== undefined) {
    const ip = parseIp(v6Text)
    if (ip?.family !== 6) throw badInput(`"${text}" is not an IPv6 address`, 'write an IPv6 address with a port as [ADDR]:PORT')
    const portText = bracketed?.[2]
    const port = portText === undefined ? undefined : Number(portText)
    if (port !== undefined && (port < 1 || port > 65535)) throw badInput(`"${text}": port ${portText ?? ''} is not 1–65535`)
    return {input: text, kind: 'ip', ip: ip.text, ...(port === undefined ? {} : {port})}
  }
  if (/^[0-9a-f:]+:[0-9a-f:]*$/i.test(text) && text.split(':').length > 2) throw badInput(`"${text}" is not an IP address`, 'write an IPv6 address with a port as [ADDR]:PORT')
  const parts = text.split('/')
  const head = parts[0]?.toLowerCase()
  let kind: EndpointSpec['kind'] = 'pod'
  let rest = parts
  if (head === 'pod' || head === 'pods' || head === 'po') rest = parts.slice(1)
  else if (head === 'svc' || head === 'service' || head === 'services') {
    kind = 'service'
    rest = parts.slice(1)
  } else if (head === 'node' || head === 'nodes' || head === 'no') {
    kind = 'node'
    rest = parts.slice(1)
  }
  const last = rest[rest.length - 1] ?? ''
  const {base, port, portName} = splitPort(last)
  const names = [...rest.slice(0, -1), base]
  if (kind === 'node') {
    if (names.length !== 1 || !NAME.test(names[0] ?? '')) throw badInput(`"${text}" is not node/NAME`)
    if (portName !== undefined) throw badInput(`"${text}": a node port must be a number`)
    return {input: text, kind, name: names[0] as string, ...(port === undefined ? {} : {port})}
  }
  if (names.length > 2 || names.length === 0 || !names.every((n) => NAME.test(n))) {
    throw badInput(`"${text}" is not pod/NS/NAME, NS/NAME, NAME, svc/NS/NAME[:PORT], node/NAME, IP[:PORT] or [IPv6]:PORT`)
  }
  const [namespace, name] = names.length === 2 ? [names[0] as string, names[1] as string] : [defaultNamespace, names[0] as string]
  if (kind === 'pod' && portName !== undefined) throw badInput(`"${text}": give a pod's port as a number, or use --port`)
  return {input: text, kind, namespace, name, ...(port === undefined ? {} : {port}), ...(portName === undefined ? {} : {portName})}
}

/** An endpoint resolved against the model, with the objects trace needs later. */
export interface ResolvedEndpoint extends TraceEndpoint {
  pod?: PodModel
  service?: ServiceModel
  servicePort?: ServicePort
  nodeModel?: NodeModel
}

const podField = (p: PodModel, i: number): TraceEvidence => ({source: `Pod ${p.namespace}/${p.name}`, text: `status.podIPs[${i}].ip: ${p.podIPs[i] ?? ''}; spec.nodeName: ${p.node ?? ''}`})

const familyName = (f: Family): string => (f === 4 ? 'IPv4' : 'IPv6')

function familiesOf(ips: readonly string[]): string {
  const fs = [...new Set(ips.map((a) => parseIp(a)?.family).filter((f): f is Family => f !== undefined))]
  return fs.length ? fs.map(familyName).join(', ') : 'none'
}

/** The address of a pod, a Service or a node in `family`, else the first one (the object's primary family). */
function pick(ips: readonly string[], family: Family | undefined): string | undefined {
  return family === undefined ? ips.find((a) => parseIp(a) !== undefined) : ips.find((a) => parseIp(a)?.family === family)
}

function fromPod(input: string, p: PodModel, port: number | null, family?: Family, address?: string): ResolvedEndpoint {
  if (p.hostNetwork) throw badInput(`pod ${p.namespace}/${p.name} uses the host network`, `trace node/${p.node ?? 'NAME'} instead`)
  const ip = address ?? pick(p.podIPs, family)
  if (!ip) {
    if (family === undefined || p.podIPs.length === 0) throw badInput(`pod ${p.namespace}/${p.name} has no IP address`, 'is it running?')
    throw badInput(`pod ${p.namespace}/${p.name} has no ${familyName(family)} address (its families: ${familiesOf(p.podIPs)})`, family === 6 ? 'trace with --ip-family 4, or between IPv6 addresses' : 'trace with --ip-family 6, or between IPv4 addresses')
  }
  return {input, kind: 'pod', name: `pod/${p.namespace}/${p.name}`, ip, port, node: p.node ?? null, evidence: [podField(p, p.podIPs.indexOf(ip))], pod: p}
}

function fromNode(input: string, n: NodeModel, port: number | null, ip?: string, family?: Family): ResolvedEndpoint {
  const address = ip ?? pick(n.internalIPs, family)
  if (!address) throw badInput(`node ${n.name} has no ${family === undefined ? '' : `${familyName(family)} `}InternalIP`)
  const i = n.addresses.findIndex((a) => a.address === address)
  return {input, kind: 'node', name: `node/${n.name}`, ip: address, port, node: n.name, evidence: [{source: `Node ${n.name}`, text: `status.addresses[${i}]: ${n.addresses[i]?.type ?? ''} ${address}`}], nodeModel: n}
}

function pickServicePort(svc: ServiceModel, spec: EndpointSpec, protocol: TraceProtocol | undefined, portFlag: number | undefined): ServicePort {
  const wanted = spec.port ?? portFlag
  const candidates = svc.ports.filter((p) => protocol === undefined || protocol === 'icmp' || p.protocol.toLowerCase() === protocol)
  let found: ServicePort | undefined
  if (spec.portName !== undefined) found = svc.ports.find((p) => p.name === spec.portName)
  else if (wanted !== undefined) found = candidates.find((p) => p.port === wanted) ?? svc.ports.find((p) => p.port === wanted)
  else if (candidates.length === 1 || (candidates.length > 1 && protocol !== undefined)) found = candidates[0]
  else if (svc.ports.length === 1) found = svc.ports[0]
  if (!found) {
    const list = svc.ports.map((p) => `${p.name ?? ''}${p.name ? '=' : ''}${p.port}/${p.protocol}`).join(', ')
    throw badInput(`service ${svc.namespace}/${svc.name} has no port ${spec.portName ?? wanted ?? '(give one)'}`, `its ports: ${list || 'none'}; write svc/NS/NAME:PORT`)
  }
  return found
}

export interface ResolveOptions {
  protocol?: TraceProtocol
  port?: number
  role: 'source' | 'destination'
  /** The trace's address family (--ip-family, or the destination's for the source); absent: the object's first. */
  family?: Family
}

/** Resolve one endpoint; unknown names are bad input (exit 2). */
export function resolveEndpoint(spec: EndpointSpec, cluster: ClusterModel, options: ResolveOptions): ResolvedEndpoint {
  const dest = options.role === 'destination'
  const port = dest ? (spec.port ?? options.port ?? null) : null
  switch (spec.kind) {
    case 'pod': {
      const p = cluster.pods.find((x) => x.namespace === spec.namespace && x.name === spec.name)
      if (!p) throw badInput(`no pod ${spec.namespace}/${spec.name} in the cluster state`, 'check the name and -n/--namespace')
      return fromPod(spec.input, p, port ?? (dest ? defaultPodPort(p, options.protocol) : null), options.family)
    }
    case 'node': {
      const n = cluster.nodes.find((x) => x.name === spec.name)
      if (!n) throw badInput(`no node ${spec.name} in the cluster state`)
      return fromNode(spec.input, n, port, undefined, options.family)
    }
    case 'service': {
      const svc = cluster.services.find((s) => s.namespace === spec.namespace && s.name === spec.name)
      if (!svc) throw badInput(`no service ${spec.namespace}/${spec.name} in the cluster state`)
      if (!dest) throw badInput('a Service cannot be a source', 'trace from one of its pods')
      return fromService(spec.input, svc, pickServicePort(svc, spec, options.protocol, options.port), options.family)
    }
    case 'ip': {
      const ip = spec.ip as string
      const family = parseIp(ip)?.family
      if (options.family !== undefined && family !== options.family) throw badInput(`${ip} is an ${familyName(family ?? 4)} address, but the trace is ${familyName(options.family)}`, 'trace between addresses of one family, or drop --ip-family')
      const pod = cluster.pods.find((p) => !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.podIPs.includes(ip))
      if (pod) return fromPod(spec.input, pod, port ?? (dest ? defaultPodPort(pod, options.protocol) : null), family, ip)
      const node = cluster.nodes.find((n) => n.addresses.some((a) => a.address === ip))
      if (node) return fromNode(spec.input, node, port, ip)
      const svc = cluster.services.find((s) => s.clusterIPs.includes(ip))
      if (svc) {
        if (!dest) throw badInput(`${ip} is the ClusterIP of service ${svc.namespace}/${svc.name}; a Service cannot be a source`)
        return fromService(spec.input, svc, pickServicePort(svc, spec, options.protocol, options.port), family, ip)
      }
      return {input: spec.input, kind: 'external', name: null, ip, port, node: null, evidence: [{source: 'cluster state', text: `${ip} is no pod's, Service's or node's address`}]}
    }
  }
}

function fromService(input: string, svc: ServiceModel, sp: ServicePort, family?: Family, address?: string): ResolvedEndpoint {
  const ip = address ?? pick(svc.clusterIPs, family)
  if (!ip) {
    if (svc.headless || svc.clusterIPs.length === 0) throw badInput(`service ${svc.namespace}/${svc.name} has no ClusterIP${svc.headless ? ' (headless: trace one of its pods)' : ''}`)
    throw badInput(`service ${svc.namespace}/${svc.name} has no ${familyName(family ?? 4)} ClusterIP (its families: ${familiesOf(svc.clusterIPs)})`, `trace it with --ip-family ${family === 6 ? 4 : 6}`)
  }
  const i = svc.ports.indexOf(sp)
  const field = svc.clusterIPs.length > 1 ? `spec.clusterIPs[${svc.clusterIPs.indexOf(ip)}]` : 'spec.clusterIP'
  return {
    input, kind: 'service', name: `svc/${svc.namespace}/${svc.name}`, ip, port: sp.port, node: null,
    evidence: [{source: `Service ${svc.namespace}/${svc.name}`, text: `${field}: ${ip}; spec.ports[${i}]: ${sp.name ?? ''} ${sp.port}/${sp.protocol} → ${sp.targetPort}`}],
    service: svc, servicePort: sp,
  }
}

function defaultPodPort(p: PodModel, protocol: TraceProtocol | undefined): number | null {
  if (protocol === 'icmp') return null
  const want = (protocol ?? 'tcp').toUpperCase()
  for (const c of p.containers) for (const cp of c.ports) if (cp.protocol === want) return cp.containerPort
  return null
}

/** The protocol when --protocol is not given: the Service port's, else tcp. */
export function impliedProtocol(dst: ResolvedEndpoint, flag: TraceProtocol | undefined): TraceProtocol {
  if (flag) return flag
  const p = dst.servicePort?.protocol.toLowerCase()
  return p === 'udp' ? 'udp' : 'tcp'
}
