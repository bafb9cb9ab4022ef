/**
 * The plan as the real cluster realised it. planLab() decides names, addresses and layout once;
 * with real Kubernetes a few facts are the cluster's to choose, not the plan's: KCM's node IPAM
 * hands out pod CIDRs in registration order from 10.244.0.0/24 (the plan says node i owns
 * 10.244.i.0/24), flanneld picks each VTEP MAC, and the bridge or ptp plugin picks each pod's MAC
 * and host-side veth name (host-local picks pod IPs, normally the plan's .2, .3, … in creation
 * order); a ptp node's /32 route to a pod names that veth.
 *
 * realisePlan() maps the computed plan onto those facts: every address inside a node's planned
 * pod CIDR (either family's: on a dual-stack lab KCM gives node-1 fd00:10:244::/64 where the plan
 * says fd00:10:244:1::/64) moves to the same offset in the CIDR the cluster gave that node (whatever field holds
 * it: routes, gateways, neighbours, endpoints), MACs derived from such addresses follow, and the
 * recorded per-pod facts win. Pure; the facts are stored in the lab state, so every command
 * recomputes the same plan.
 */
import {formatIp, parseCidr, parseIp} from '../../net/cidr.js'
import {macFromIp, vtepMac, type LabPlan} from '../plan.js'
import {vtepMac6} from '../plan-ipv6.js'

export interface RealisedFacts {
  /** Node name → the pod CIDR KCM allocated (spec.podCIDR). */
  podCIDRs?: Record<string, string>
  /** Node name → flannel.1's MAC (from the node's flannel backend-data annotation). */
  vtepMacs?: Record<string, string>
  /** Dual-stack: node name → its IPv6 pod CIDR (spec.podCIDRs[1]). */
  podCIDRs6?: Record<string, string>
  /** Dual-stack vxlan: node name → flannel-v6.1's MAC (backend-v6-data). */
  vtepMacs6?: Record<string, string>
  /** Pod name → what the CNI chain configured. */
  pods?: Record<string, {ip?: string; ip6?: string; mac?: string; hostVeth?: string}>
  /** Services a fault created through the API: each a copy of plan Service `like` (no NodePort) at its own name and ClusterIP. */
  services?: {namespace: string; name: string; clusterIP: string; like: string}[]
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

function toInt(ip: string): number | undefined {
  const m = IPV4.exec(ip)
  if (!m) return undefined
  const o = m.slice(1).map(Number)
  if (o.some((x) => x > 255)) return undefined
  return (((o[0] as number) << 24) | ((o[1] as number) << 16) | ((o[2] as number) << 8) | (o[3] as number)) >>> 0
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

interface Shift {
  from: number
  to: number
  size: number
}

function shiftOf(planned: string, actual: string): Shift | undefined {
  const [pNet, pLen] = planned.split('/')
  const [aNet, aLen] = actual.split('/')
  const from = toInt(pNet ?? '')
  const to = toInt(aNet ?? '')
  if (from === undefined || to === undefined || pLen !== aLen) return undefined
  return {from, to, size: 2 ** (32 - Number(pLen))}
}

/** An address (or address/prefix) moved by the first shift whose planned range holds it. */
export function shiftAddress(value: string, shifts: Shift[]): string {
  const [addr, len, ...rest] = value.split('/')
  if (rest.length > 0) return value
  const n = toInt(addr ?? '')
  if (n === undefined) return value
  const s = shifts.find((x) => n >= x.from && n < x.from + x.size)
  if (!s) return value
  const moved = toIp(s.to + (n - s.from))
  return len === undefined ? moved : `${moved}/${len}`
}

interface Shift6 {
  from: bigint
  to: bigint
  last: bigint
}

function shift6Of(planned: string, actual: string): Shift6 | undefined {
  const p = parseCidr(planned)
  const a = parseCidr(actual)
  if (p?.family !== 6 || a?.family !== 6 || p.prefixLength !== a.prefixLength) return undefined
  return {from: p.first, to: a.first, last: p.last}
}

/** An IPv6 address (or address/prefix) moved by the first shift whose planned range holds it. */
export function shiftAddress6(value: string, shifts: Shift6[]): string {
  if (!value.includes(':')) return value
  const [addr, len, ...rest] = value.split('/')
  const ip = rest.length > 0 ? undefined : parseIp(addr ?? '')
  if (ip?.family !== 6) return value
  const s = shifts.find((x) => ip.value >= x.from && ip.value <= x.last)
  if (!s) return value
  const moved = formatIp(6, s.to + (ip.value - s.from))
  return len === undefined ? moved : `${moved}/${len}`
}

function mapStrings<T>(value: T, f: (s: string) => string): T {
  if (typeof value === 'string') return f(value) as T
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f)) as T
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)])) as T
  }
  return value
}

export function realisePlan(plan: LabPlan, facts: RealisedFacts | undefined): LabPlan {
  if (!facts) return plan
  const shifts = plan.nodes.flatMap((n) => {
    const actual = facts.podCIDRs?.[n.name]
    const s = actual ? shiftOf(n.podCIDR, actual) : undefined
    return s ? [s] : []
  })
  // MACs the plan derives from pod-range addresses (cbr0's, pods') and the planned VTEP MACs.
  const macs = new Map<string, string>()
  for (const s of shifts) {
    for (let k = 0; k < s.size; k++) macs.set(macFromIp(toIp(s.from + k)), macFromIp(toIp(s.to + k)))
  }
  for (const n of plan.nodes) {
    const mac = facts.vtepMacs?.[n.name]
    if (mac) macs.set(vtepMac(n.index), mac.toLowerCase())
    const mac6 = facts.vtepMacs6?.[n.name]
    if (mac6) macs.set(vtepMac6(n.index), mac6.toLowerCase())
  }
  const shifts6 = plan.nodes.flatMap((n) => {
    const actual = facts.podCIDRs6?.[n.name]
    const s = actual && n.v6 ? shift6Of(n.v6.podCIDR, actual) : undefined
    return s ? [s] : []
  })
  const {params, prefix, marker, clusterCIDR, serviceCIDR, underlayCIDR, ...rest} = plan
  const mapped = mapStrings(rest, (s) => macs.get(s) ?? (shifts6.length > 0 ? shiftAddress6(shiftAddress(s, shifts), shifts6) : shiftAddress(s, shifts)))
  const out: LabPlan = {...plan, ...mapped, params, prefix, marker, clusterCIDR, serviceCIDR, underlayCIDR}

  const ips = new Map<string, string>()
  const ips6 = new Map<string, string>()
  out.pods = out.pods.map((pod) => {
    const f = facts.pods?.[pod.name]
    if (!f) return pod
    const changed = {...pod, ...(f.ip ? {ip: f.ip} : {}), ...(f.ip6 && pod.ip6 ? {ip6: f.ip6} : {}), ...(f.mac ? {mac: f.mac.toLowerCase()} : {}), ...(f.hostVeth ? {hostVeth: f.hostVeth} : {})}
    if (f.ip && f.ip !== pod.ip) ips.set(pod.ip, f.ip)
    if (f.ip6 && pod.ip6 && f.ip6 !== pod.ip6) ips6.set(pod.ip6, f.ip6)
    return changed
  })
  // Routed pods (ptp): the node's /32 route to a pod is through the veth its CNI plugin named.
  const veths = new Map(out.pods.map((p) => [p.name, p.hostVeth]))
  out.nodes = out.nodes.map((n) => ({...n, routes: n.routes.map((r) => (r.purpose === 'pod' && r.toPod && veths.has(r.toPod) ? {...r, dev: veths.get(r.toPod) as string} : r))}))
  if (ips.size > 0) {
    // A pod whose IP was not the predicted one: every field naming the old address follows it,
    // as an address or as its host route (a ptp node's ADDR/32 to the pod).
    const moved = (s: string): string => ips.get(s) ?? (s.endsWith('/32') && ips.has(s.slice(0, -3)) ? `${ips.get(s.slice(0, -3))}/32` : s)
    out.nodes = mapStrings(out.nodes, moved)
    out.services = out.services.map((svc) => ({...svc, endpoints: svc.endpoints.map((e) => ({...e, ip: ips.get(e.ip) ?? e.ip}))}))
  }
  if (ips6.size > 0) out.services = out.services.map((svc) => ({...svc, endpoints: svc.endpoints.map((e) => (e.ip6 ? {...e, ip6: ips6.get(e.ip6) ?? e.ip6} : e))}))
  for (const added of facts.services ?? []) {
    const like = out.services.find((s) => s.name === added.like && s.namespace === added.namespace)
    if (!like || out.services.some((s) => s.name === added.name && s.namespace === added.namespace)) continue
    // IPv4 only: the copy has no IPv6 ClusterIP of its own.
    const {clusterIP6: _v6, ...v4} = like
    out.services = [...out.services, {...v4, name: added.name, type: 'ClusterIP', clusterIP: added.clusterIP, ports: like.ports.map(({nodePort: _n, ...p}) => ({...p}))}]
  }
  return out
}
