/**
 * A trace as a graph, for the pictures (-o mermaid, -o dot): pods, veths, bridges, NICs, tunnels,
 * underlay addresses and the DNAT choices as vertices, grouped by the Kubernetes node they are on;
 * hops as edges. A Service's branches fork after the DNAT, and the hops they share (node-1's
 * flannel.1 for both pods on node-2) are one vertex. The failing hop is marked with its code.
 */
import type {Hop, HopStatus, TraceResult} from '../trace/types.js'
import {hostPort} from '../net/cidr.js'

export type VertexKind = 'pod' | 'veth' | 'bridge' | 'nic' | 'tunnel' | 'underlay' | 'nat'

export interface Vertex {
  id: string
  kind: VertexKind
  label: string
  /** The Kubernetes node it is on; null on the underlay (and for NAT, which is drawn beside its node). */
  node: string | null
  status: HopStatus
  code?: string
}

export interface Edge {
  from: string
  to: string
  /** The reply's way back (trace marks those hops ↩). */
  reply: boolean
}

export interface PathGraph {
  title: string
  vertices: Vertex[]
  edges: Edge[]
}

const TUNNEL = /^(flannel\.\d+|vxlan|tunl|ipip|geneve|gre|wg|cilium_vxlan|cilium_geneve|genev_sys|vxlan\.calico|kube-ipip)/

function kindOf(h: Hop): VertexKind {
  const label = h.label.replace(/^↩ /, '')
  if (h.node === null) return 'underlay'
  if (label.startsWith(`${h.node} `)) return TUNNEL.test(label.slice(h.node.length + 1)) ? 'tunnel' : 'nic'
  if (/ eth0$/.test(label)) return 'pod'
  if (/^veth/.test(label)) return 'veth'
  return 'bridge'
}

export function traceGraph(r: TraceResult): PathGraph {
  const vertices = new Map<string, Vertex>()
  const edges = new Map<string, Edge>()
  const add = (key: string, v: Omit<Vertex, 'id'>): Vertex => {
    const found = vertices.get(key)
    if (found) {
      // A vertex several branches share is as bad as the worst of them.
      if (v.status === 'fail' || (v.status === 'unknown' && found.status === 'ok')) Object.assign(found, {status: v.status, ...(v.code ? {code: v.code} : {})})
      return found
    }
    const made = {id: `n${vertices.size + 1}`, ...v}
    vertices.set(key, made)
    return made
  }
  const link = (from: Vertex | undefined, to: Vertex, reply: boolean) => {
    if (!from) return
    const key = `${from.id}>${to.id}`
    if (!edges.has(key)) edges.set(key, {from: from.id, to: to.id, reply})
  }
  /** One path through the graph: the same device met again later in a path is a new vertex (no loops). */
  const walk = (hops: readonly Hop[], start: Vertex | undefined, seen: Map<string, number>, prefix: string): Vertex | undefined => {
    let prev = start
    for (const h of hops) {
      const base = `${h.node ?? '-'}|${h.label}`
      const n = (seen.get(base) ?? 0) + 1
      seen.set(base, n)
      // A failed or unknown hop is this path's own: other branches got through the same device.
      const key = h.status === 'ok' ? `${base}#${n}` : `${prefix}${base}#${n}`
      const v = add(key, {kind: kindOf(h), label: h.label, node: h.node, status: h.status, ...(h.code ? {code: h.code} : {})})
      link(prev, v, /^↩ /.test(h.label))
      prev = v
    }
    return prev
  }
  const seen = new Map<string, number>()
  const last = walk(r.hops, undefined, seen, '')
  for (const b of r.branches) {
    const own = new Map(seen)
    const [dnatHop, ...rest] = b.hops
    // The hop where DNAT chose this endpoint is shared; the choice itself is the branch's own vertex.
    const at = dnatHop ? walk([{...dnatHop, status: 'ok'}], last, own, '') : last
    const choice = r.nat.dnat.find((d) => (d.endpoint ?? d.ip) === b.endpoint)
    const natLabel = choice ? `DNAT → ${hostPort(choice.ip, choice.port)} (${Math.round(choice.probability * 1000) / 10}%)${choice.endpoint ? '' : ', no pod'}` : `→ ${b.endpoint}`
    const failedAtDnat = dnatHop && dnatHop.status !== 'ok'
    const nat = add(`nat|${b.endpoint}`, {kind: 'nat', label: natLabel, node: dnatHop?.node ?? null, status: failedAtDnat ? dnatHop.status : 'ok', ...(failedAtDnat && dnatHop.code ? {code: dnatHop.code} : {})})
    link(at, nat, false)
    walk(rest, nat, own, `${b.endpoint}|`)
  }
  const dst = r.destination.name ? `${r.destination.name}${r.port === null ? '' : `:${r.port}`}` : hostPort(r.destination.ip, r.port)
  const title = `${r.source.name ?? r.source.ip} → ${dst} ${r.protocol}: ${r.verdict}${r.reason ? ` (${r.reason.code})` : ''}`
  return {title, vertices: [...vertices.values()], edges: [...edges.values()]}
}

/** The vertex's text: its label, and for a failed or unknown one the mark and the reason code. */
export function vertexText(v: Vertex): string {
  if (v.status === 'ok') return v.label
  return `${v.status === 'fail' ? '✗' : '?'} ${v.label}${v.code ? `\n${v.code}` : ''}`
}

/** Kubernetes nodes in the order the path first meets them. */
export function nodesInOrder(g: PathGraph): string[] {
  return [...new Set(g.vertices.flatMap((v) => (v.node ? [v.node] : [])))]
}
