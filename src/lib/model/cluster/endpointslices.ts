import {arr, bool, buildEach, ipText, meta, num, protocol, rec, str, strings, type ModelProblem, type Protocol} from './read.js'

export interface Endpoint {
  addresses: string[]
  /** Conditions as reported; an absent `ready` means "unknown, treat as ready" per the API docs. */
  ready?: boolean
  serving?: boolean
  terminating?: boolean
  nodeName?: string
  hostname?: string
  targetRef?: {kind: string; namespace?: string; name: string}
}

export interface EndpointSliceModel {
  namespace: string
  name: string
  /** The kubernetes.io/service-name label: which Service this slice backs. */
  serviceName?: string
  addressType: string
  endpoints: Endpoint[]
  ports: {name?: string; port?: number; protocol: Protocol}[]
}

export function buildEndpointSlices(raw: unknown[], problems: ModelProblem[], release = false): EndpointSliceModel[] {
  return buildEach(raw, (obj, i) => endpointSliceOf(obj, i, problems), release)
}

export function endpointSliceOf(obj: unknown, i: number, problems: ModelProblem[]): EndpointSliceModel | undefined {
  const m = meta(obj)
  if (!m) return void problems.push({subject: `endpointSlices[${i}]`, message: 'EndpointSlice without metadata.name ignored'})
  const r = rec(obj)
  const endpoints = arr(r.endpoints).map((e): Endpoint => {
    const er = rec(e)
    const c = rec(er.conditions)
    const addresses = strings(er.addresses).map(ipText)
    const ready = bool(c.ready)
    const serving = bool(c.serving)
    const terminating = bool(c.terminating)
    const nodeName = str(er.nodeName)
    const hostname = str(er.hostname)
    const t = rec(er.targetRef)
    const tName = str(t.name)
    const tNamespace = str(t.namespace)
    const targetRef = tName ? (tNamespace ? {kind: str(t.kind) ?? '', namespace: tNamespace, name: tName} : {kind: str(t.kind) ?? '', name: tName}) : undefined
    // The usual endpoint as one literal (fields added after a literal go to a separate store); the
    // rest by assignment in the same key order, not with spreads: every endpoint of the cluster is read here.
    if (ready !== undefined && serving !== undefined && terminating !== undefined && nodeName && !hostname && targetRef) return {addresses, ready, serving, terminating, nodeName, targetRef}
    const out: Endpoint = {addresses}
    if (ready !== undefined) out.ready = ready
    if (serving !== undefined) out.serving = serving
    if (terminating !== undefined) out.terminating = terminating
    if (nodeName) out.nodeName = nodeName
    if (hostname) out.hostname = hostname
    if (targetRef) out.targetRef = targetRef
    return out
  })
  const ports = arr(r.ports).map((p) => {
    const pr = rec(p)
    const name = str(pr.name)
    const port = num(pr.port)
    const protocolName = protocol(pr.protocol)
    if (port === undefined) return name ? {name, protocol: protocolName} : {protocol: protocolName}
    return name ? {name, port, protocol: protocolName} : {port, protocol: protocolName}
  })
  const serviceName = m.labels['kubernetes.io/service-name']
  const addressType = str(r.addressType) ?? 'IPv4'
  return serviceName ? {namespace: m.namespace, name: m.name, serviceName, addressType, endpoints, ports} : {namespace: m.namespace, name: m.name, addressType, endpoints, ports}
}
