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
    const ready = bool(c.ready)
    const serving = bool(c.serving)
    const terminating = bool(c.terminating)
    const nodeName = str(er.nodeName)
    const hostname = str(er.hostname)
    const t = rec(er.targetRef)
    const tName = str(t.name)
    const tNamespace = str(t.namespace)
    return {
      addresses: strings(er.addresses).map(ipText),
      ...(ready === undefined ? {} : {ready}),
      ...(serving === undefined ? {} : {serving}),
      ...(terminating === undefined ? {} : {terminating}),
      ...(nodeName ? {nodeName} : {}),
      ...(hostname ? {hostname} : {}),
      ...(tName ? {targetRef: {kind: str(t.kind) ?? '', ...(tNamespace ? {namespace: tNamespace} : {}), name: tName}} : {}),
    }
  })
  const ports = arr(r.ports).map((p) => {
    const pr = rec(p)
    const name = str(pr.name)
    const port = num(pr.port)
    return {...(name ? {name} : {}), ...(port === undefined ? {} : {port}), protocol: protocol(pr.protocol)}
  })
  const serviceName = m.labels['kubernetes.io/service-name']
  return {
    namespace: m.namespace,
    name: m.name,
    ...(serviceName ? {serviceName} : {}),
    addressType: str(r.addressType) ?? 'IPv4',
    endpoints,
    ports,
  }
}
