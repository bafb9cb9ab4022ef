/**
 * The ready endpoints behind each Service port, keyed as kube-proxy names the port
 * (`ns/name:port|protocol`), for the NAT checks. It holds each EndpointSlice port once and walks
 * the slice's own endpoints when asked, instead of an object and two strings per endpoint: on a
 * 10,000-Service cluster building those was a large part of the NAT checks' time, and the checks
 * only need an endpoint's slice and field when they report it. Built once per model, on first use.
 */
import type {EndpointSliceModel} from '../model/cluster.js'
import type {AnalysisModel, KubeProxyTarget, ReadyEndpoint} from '../model/model.js'

/** One port of one EndpointSlice; its ready endpoints are the slice's endpoints not marked unready. */
export interface ReadySlicePort {
  slice: EndpointSliceModel
  port: number | undefined
  /** Lower case, as in kube-proxy's rules. */
  protocol: string
}

const built = new WeakMap<AnalysisModel, Map<string, ReadySlicePort[]>>()

/** `${ns}/${service}:${portName}|${protocol}` (or without `:portName` for an unnamed port) → its slice ports, in slice order. */
export function readySlicePorts(model: AnalysisModel): Map<string, ReadySlicePort[]> {
  let byKey = built.get(model)
  if (byKey !== undefined) return byKey
  byKey = new Map()
  for (const slice of model.cluster?.endpointSlices ?? []) {
    if (!slice.serviceName) continue
    const service = `${slice.namespace}/${slice.serviceName}`
    for (const p of slice.ports) {
      const protocol = p.protocol.toLowerCase()
      const key = `${p.name ? `${service}:${p.name}` : service}|${protocol}`
      const entry: ReadySlicePort = {slice, port: p.port, protocol}
      const list = byKey.get(key)
      if (list === undefined) byKey.set(key, [entry])
      else list.push(entry)
    }
  }
  built.set(model, byKey)
  return byKey
}

/** The ready endpoints as ReadyEndpoint records (only IPv4 ones with `v4Only`), for messages and evidence. */
export function readyEndpoints(ports: readonly ReadySlicePort[] | undefined, v4Only: boolean): ReadyEndpoint[] {
  const out: ReadyEndpoint[] = []
  for (const {slice, port, protocol} of ports ?? []) {
    const name = `${slice.namespace}/${slice.name}`
    slice.endpoints.forEach((e, i) => {
      if (e.ready === false) return
      e.addresses.forEach((ip, j) => {
        if (v4Only && ip.includes(':')) return
        const field = `endpoints[${i}].addresses[${j}]`
        out.push(port === undefined ? {ip, protocol, slice: name, field} : {ip, port, protocol, slice: name, field})
      })
    })
  }
  return out
}

/** Whether any endpoint is ready (an IPv4 one with `v4Only`). */
export function hasReadyEndpoint(ports: readonly ReadySlicePort[] | undefined, v4Only: boolean): boolean {
  for (const {slice} of ports ?? []) {
    for (const e of slice.endpoints) {
      if (e.ready === false) continue
      for (const ip of e.addresses) if (!v4Only || !ip.includes(':')) return true
    }
  }
  return false
}

/** kube-proxy's and the API's view of an endpoint agree: same address, and same port where both name one. */
function samePort(a: number | undefined, b: number | undefined): boolean {
  return a === undefined || b === undefined || a === b
}

/**
 * A test of whether a DNAT target is one of the ready endpoints. With many targets to test the
 * endpoints are indexed by address first, so a Service with thousands of endpoints costs linear time.
 */
export function readyTargetTest(ports: readonly ReadySlicePort[] | undefined, targets: number): (target: KubeProxyTarget) => boolean {
  if (targets <= 16) {
    return (target) => {
      for (const {slice, port} of ports ?? []) {
        if (!samePort(port, target.port)) continue
        for (const e of slice.endpoints) {
          if (e.ready === false) continue
          for (const ip of e.addresses) if (ip === target.ip) return true
        }
      }
      return false
    }
  }
  const byIp = new Map<string, (number | undefined)[]>()
  for (const {slice, port} of ports ?? []) {
    for (const e of slice.endpoints) {
      if (e.ready === false) continue
      for (const ip of e.addresses) {
        const list = byIp.get(ip)
        if (list === undefined) byIp.set(ip, [port])
        else list.push(port)
      }
    }
  }
  return (target) => byIp.get(target.ip)?.some((port) => samePort(port, target.port)) ?? false
}

/** Whether every ready IPv4 endpoint is among the DNAT targets. */
export function everyReadyV4Targeted(ports: readonly ReadySlicePort[] | undefined, targets: readonly KubeProxyTarget[]): boolean {
  // A Service's endpoints and its targets are usually a handful; index the targets only for large ones.
  let byIp: Map<string, KubeProxyTarget[]> | undefined
  if (targets.length > 16) {
    byIp = new Map()
    for (const t of targets) {
      const list = byIp.get(t.ip)
      if (list === undefined) byIp.set(t.ip, [t])
      else list.push(t)
    }
  }
  for (const {slice, port} of ports ?? []) {
    for (const e of slice.endpoints) {
      if (e.ready === false) continue
      for (const ip of e.addresses) {
        if (ip.includes(':')) continue
        const candidates = byIp === undefined ? targets : (byIp.get(ip) ?? [])
        let found = false
        for (const t of candidates) {
          if (t.ip === ip && samePort(port, t.port)) {
            found = true
            break
          }
        }
        if (!found) return false
      }
    }
  }
  return true
}
