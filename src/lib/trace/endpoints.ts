/**
 * SRC and DST as the user writes them (`pod/NS/NAME`, `NS/NAME`, `NAME`, `svc/NS/NAME:PORT`,
 * `node/NAME`, `10.96.0.10:53`), resolved against the cluster model: a raw IP becomes the pod,
 * Service or node that owns it; an address nobody owns is external.
 */
import type {ClusterModel, NodeModel, PodModel, ServiceModel, ServicePort} from '../model/cluster.js'
import {parseIp} from '../net/cidr.js'
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
  if (parseIp(text)?.family === 6) throw badInput(`"${text}": IPv6 is not traced yet`, 'trace an IPv4 address')
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
    throw badInput(`"${text}" is not pod/NS/NAME, NS/NAME, NAME, svc/NS/NAME[:PORT], node/NAME or IP[:PORT]`)
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

function fromPod(input: string, p: PodModel, port: number | null): ResolvedEndpoint {
  const ip = p.podIPs.find((a) => parseIp(a)?.family === 4)
  if (!ip) throw badInput(`pod ${p.namespace}/${p.name} has no IPv4 address`, 'is it running?')
  if (p.hostNetwork) throw badInput(`pod ${p.namespace}/${p.name} uses the host network`, `trace node/${p.node ?? 'NAME'} instead`)
  return {input, kind: 'pod', name: `pod/${p.namespace}/${p.name}`, ip, port, node: p.node ?? null, evidence: [podField(p, p.podIPs.indexOf(ip))], pod: p}
}

function fromNode(input: string, n: NodeModel, port: number | null, ip?: string): ResolvedEndpoint {
  const address = ip ?? n.internalIPs.find((a) => parseIp(a)?.family === 4)
  if (!address) throw badInput(`node ${n.name} has no IPv4 InternalIP`)
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
}

/** Resolve one endpoint; unknown names are bad input (exit 2). */
export function resolveEndpoint(spec: EndpointSpec, cluster: ClusterModel, options: ResolveOptions): ResolvedEndpoint {
  const dest = options.role === 'destination'
  const port = dest ? (spec.port ?? options.port ?? null) : null
  switch (spec.kind) {
    case 'pod': {
      const p = cluster.pods.find((x) => x.namespace === spec.namespace && x.name === spec.name)
      if (!p) throw badInput(`no pod ${spec.namespace}/${spec.name} in the cluster state`, 'check the name and -n/--namespace')
      return fromPod(spec.input, p, port ?? (dest ? defaultPodPort(p, options.protocol) : null))
    }
    case 'node': {
      const n = cluster.nodes.find((x) => x.name === spec.name)
      if (!n) throw badInput(`no node ${spec.name} in the cluster state`)
      return fromNode(spec.input, n, port)
    }
    case 'service': {
      const svc = cluster.services.find((s) => s.namespace === spec.namespace && s.name === spec.name)
      if (!svc) throw badInput(`no service ${spec.namespace}/${spec.name} in the cluster state`)
      if (!dest) throw badInput('a Service cannot be a source', 'trace from one of its pods')
      return fromService(spec.input, svc, pickServicePort(svc, spec, options.protocol, options.port))
    }
    case 'ip': {
      const ip = spec.ip as string
      const pod = cluster.pods.find((p) => !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.podIPs.includes(ip))
      if (pod) return fromPod(spec.input, pod, port ?? (dest ? defaultPodPort(pod, options.protocol) : null))
      const node = cluster.nodes.find((n) => n.addresses.some((a) => a.address === ip))
      if (node) return fromNode(spec.input, node, port, ip)
      const svc = cluster.services.find((s) => s.clusterIPs.includes(ip))
      if (svc) {
        if (!dest) throw badInput(`${ip} is the ClusterIP of service ${svc.namespace}/${svc.name}; a Service cannot be a source`)
        return fromService(spec.input, svc, pickServicePort(svc, spec, options.protocol, options.port))
      }
      return {input: spec.input, kind: 'external', name: null, ip, port, node: null, evidence: [{source: 'cluster state', text: `${ip} is no pod's, Service's or node's address`}]}
    }
  }
}

function fromService(input: string, svc: ServiceModel, sp: ServicePort): ResolvedEndpoint {
  const ip = svc.clusterIPs.find((a) => parseIp(a)?.family === 4)
  if (!ip) throw badInput(`service ${svc.namespace}/${svc.name} has no IPv4 ClusterIP${svc.headless ? ' (headless: trace one of its pods)' : ''}`)
  const i = svc.ports.indexOf(sp)
  return {
    input, kind: 'service', name: `svc/${svc.namespace}/${svc.name}`, ip, port: sp.port, node: null,
    evidence: [{source: `Service ${svc.namespace}/${svc.name}`, text: `spec.clusterIP: ${ip}; spec.ports[${i}]: ${sp.name ?? ''} ${sp.port}/${sp.protocol} → ${sp.targetPort}`}],
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
