/** Evidence lines in the shape the commands print them, with the node command that produced them. */
import type {NodeDatapath} from '../model/node.js'
import type {FdbEntry} from '../parse/iproute2/bridge.js'
import type {Link} from '../parse/iproute2/links.js'
import type {Neighbour} from '../parse/iproute2/neigh.js'
import type {Route} from '../parse/iproute2/routes.js'
import {describeRoute} from '../parse/iproute2/routes.js'
import type {SysctlEntry} from '../parse/sysctl.js'
import type {TraceEvidence} from './types.js'

export function sourceOf(node: NodeDatapath, id: string): string {
  return node.evidence[id]?.source ?? `${node.name}: ${id}`
}

/** A node command whose output is not in evidence, as it ended: "timeout: timed out after 10000 ms", or "absent". */
export function notGathered(node: NodeDatapath, id: string): TraceEvidence {
  const e = node.evidence[id]
  return {source: sourceOf(node, id), text: `${e?.status ?? 'absent'}${e?.reason ? `: ${e.reason}` : ''}`}
}

export function linkLine(l: Link): string {
  const parts = [`${l.ifindex}: ${l.ifname}: <${l.flags.join(',')}>`]
  if (l.mtu !== undefined) parts.push(`mtu ${l.mtu}`)
  if (l.master) parts.push(`master ${l.master}`)
  if (l.operstate) parts.push(`state ${l.operstate}`)
  if (l.kind) parts.push(l.kind)
  if (l.bridgePort?.hairpin !== undefined) parts.push(`hairpin ${l.bridgePort.hairpin ? 'on' : 'off'}`)
  if (l.vxlan?.id !== undefined) parts.push(`id ${l.vxlan.id}`)
  if (l.linkNetnsid !== undefined) parts.push(`link-netnsid ${l.linkNetnsid}`)
  return parts.join(' ')
}

export const linkEvidence = (node: NodeDatapath, l: Link): TraceEvidence => ({source: sourceOf(node, 'links'), text: linkLine(l)})
export const routeEvidence = (node: NodeDatapath, r: Route): TraceEvidence => ({source: sourceOf(node, r.family === 6 ? 'routes6' : 'routes4'), text: describeRoute(r)})

export function neighEvidence(node: NodeDatapath, n: Neighbour): TraceEvidence {
  return {source: sourceOf(node, 'neigh'), text: `${n.dst}${n.dev ? ` dev ${n.dev}` : ''}${n.lladdr ? ` lladdr ${n.lladdr}` : ''} ${n.state.join(' ')}`.trim()}
}

export function fdbEvidence(node: NodeDatapath, f: FdbEntry): TraceEvidence {
  const parts = [f.mac, `dev ${f.ifname}`]
  if (f.dst) parts.push(`dst ${f.dst}`)
  if (f.vni !== undefined) parts.push(`vni ${f.vni}`)
  if (f.master) parts.push(`master ${f.master}`)
  parts.push(...f.flags)
  if (f.state) parts.push(f.state)
  return {source: sourceOf(node, 'bridge-fdb'), text: parts.join(' ')}
}

export function sysctl(node: NodeDatapath, key: string): SysctlEntry | undefined {
  return node.sysctls?.find((s) => s.key === key)
}

export const sysctlEvidence = (node: NodeDatapath, s: SysctlEntry): TraceEvidence => ({source: sourceOf(node, 'sysctls'), text: `${s.path}:${s.value}`})

/** Up as the kernel sees it for forwarding: administratively UP and not operationally down. */
export function linkIsUp(l: Link): boolean {
  return l.flags.includes('UP') && l.operstate !== 'DOWN' && l.operstate !== 'LOWERLAYERDOWN'
}
