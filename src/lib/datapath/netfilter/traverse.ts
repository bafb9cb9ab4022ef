/**
 * A packet's way through all of a node's netfilter hooks in kernel order. Which tables run at which
 * hook, by priority (include/uapi/linux/netfilter_ipv4.h):
 *   PREROUTING  raw → mangle → nat(DNAT)      INPUT   mangle → filter → security → nat(SNAT)
 *   FORWARD     mangle → filter → security    OUTPUT  raw → mangle → nat(DNAT) → filter → security
 *   POSTROUTING mangle → nat(SNAT)
 * Tables absent from the dump are simply not there (kube-proxy only writes nat and filter).
 *
 * The routing decision between PREROUTING and FORWARD/INPUT (and the reroute after OUTPUT, which a
 * DNAT in nat OUTPUT needs) is not made here: the caller injects it, so this module stays a pure
 * function of the dump.
 */
import type {IptablesDump} from '../../parse/iptables-save.js'
import {evaluateHook, type EvaluateOptions} from './evaluate.js'
import type {Hook, HookOutcome, NatState, TrailEntry} from './outcomes.js'
import type {NetfilterContext, Packet} from './packet.js'
import {canonicalIp} from './packet.js'

/**
 * forward: arrives on an interface (a pod's veth, the uplink) and is routed; after PREROUTING the
 *   route decides between FORWARD and local delivery (INPUT) — a NodePort without a local DNAT ends in INPUT.
 * local-in: arrives for this node (INPUT) whatever the route says.
 * local-out: generated on the node (OUTPUT, then POSTROUTING).
 */
export type TraversalPath = 'forward' | 'local-in' | 'local-out'

/** An output interface name, or an explicit decision; undefined keeps the packet's outIface. */
export type RouteDecision = string | {local: true} | {local?: false; outIface?: string} | undefined

export type RouteFn = (packet: Packet) => RouteDecision

export interface TraverseOutcome extends HookOutcome {
  /** The hook and table that gave the final verdict (the last one run, for an accepted packet). */
  at: {hook: Hook; table: string}
  /** Where an accepted packet goes: to a local socket, or out of outIface. */
  delivery?: 'local' | 'out'
  /** Hooks that were skipped and why (nat for non-NEW packets). */
  notes: string[]
}

type Step = {hook: Hook; table: string} | 'route'

const PRE: Step[] = [{hook: 'PREROUTING', table: 'raw'}, {hook: 'PREROUTING', table: 'mangle'}, {hook: 'PREROUTING', table: 'nat'}]
const INPUT: Step[] = [{hook: 'INPUT', table: 'mangle'}, {hook: 'INPUT', table: 'filter'}, {hook: 'INPUT', table: 'security'}, {hook: 'INPUT', table: 'nat'}]
const FORWARD: Step[] = [{hook: 'FORWARD', table: 'mangle'}, {hook: 'FORWARD', table: 'filter'}, {hook: 'FORWARD', table: 'security'}]
const OUTPUT: Step[] = [{hook: 'OUTPUT', table: 'raw'}, {hook: 'OUTPUT', table: 'mangle'}, {hook: 'OUTPUT', table: 'nat'}, {hook: 'OUTPUT', table: 'filter'}, {hook: 'OUTPUT', table: 'security'}]
const POST: Step[] = [{hook: 'POSTROUTING', table: 'mangle'}, {hook: 'POSTROUTING', table: 'nat'}]

const PATHS: Record<TraversalPath, Step[]> = {
  'forward': [...PRE, 'route', ...FORWARD, ...POST],
  'local-in': [...PRE, ...INPUT],
  'local-out': [...OUTPUT, 'route', ...POST],
}

/** Without a route callback: local when the destination is one of the node's addresses. Shared with the nftables pipeline. */
export function decide(path: TraversalPath, packet: Packet, ctx: NetfilterContext, route: RouteFn | undefined): {local: boolean; outIface?: string} {
  const r = route?.(packet)
  if (typeof r === 'string') return {local: false, outIface: r}
  if (r !== undefined) return r.local === true ? {local: true} : {local: false, ...(r.outIface === undefined ? {} : {outIface: r.outIface})}
  const isLocal = ctx.localAddresses.has(canonicalIp(packet.dst)) || (packet.family === 4 && packet.dst.startsWith('127.'))
  // A locally generated packet to a local address leaves by lo and is not re-evaluated here.
  if (path === 'local-out') return isLocal ? {local: false, outIface: 'lo'} : {local: false}
  return {local: isLocal}
}

/** A packet's state between hooks, while one branch of a traversal is followed (iptables, nftables and IPVS alike). */
export interface Progress {
  decidedBy: HookOutcome['decidedBy']
  probability: number
  packet: Packet
  nat: NatState
  trail: TrailEntry[]
  uncertain: string[]
  notes: string[]
  at: {hook: Hook; table: string}
}

/** A branch's state once one hook (table) has given outcome `r`; an absent table leaves where and how it was decided. */
export function afterHook(s: Progress, r: HookOutcome, step: {hook: Hook; table: string}): Progress {
  return {
    probability: s.probability * r.probability, packet: r.packet, nat: r.nat, trail: r.trail.length ? [...s.trail, ...r.trail] : s.trail,
    uncertain: r.uncertain.length ? [...s.uncertain, ...r.uncertain] : s.uncertain,
    notes: r.decidedBy === 'skipped' && r.reason ? [...s.notes, r.reason] : s.notes,
    at: r.decidedBy === 'absent' ? s.at : step,
    decidedBy: r.decidedBy === 'absent' ? s.decidedBy : r.decidedBy,
  }
}

export function traverse(dump: IptablesDump, path: TraversalPath, packet: Packet, ctx: NetfilterContext, route?: RouteFn, options: EvaluateOptions = {}): TraverseOutcome[] {
  const out: TraverseOutcome[] = []
  const first = PATHS[path][0] as {hook: Hook; table: string}
  const run = (steps: Step[], i: number, s: Progress): void => {
    if (i >= steps.length) {
      out.push({
        probability: s.probability, verdict: 'ACCEPT', decidedBy: s.decidedBy, packet: s.packet, nat: s.nat, trail: s.trail,
        uncertain: s.uncertain, notes: s.notes, at: s.at, delivery: steps.includes(INPUT[0] as Step) ? 'local' : 'out',
      })
      return
    }
    const step = steps[i] as Step
    if (step === 'route') {
      const d = decide(path, s.packet, ctx, route)
      if (d.local && path === 'forward') {
        run([...INPUT], 0, s)
        return
      }
      const packet = d.outIface === undefined ? s.packet : {...s.packet, outIface: d.outIface}
      run(steps, i + 1, {...s, packet})
      return
    }
    const results = evaluateHook(dump, step.table, step.hook, s.packet, ctx, {...options, nat: s.nat})
    for (const r of results) {
      const next = afterHook(s, r, step)
      if (r.verdict === 'ACCEPT') run(steps, i + 1, next)
      else {
        out.push({...r, probability: next.probability, trail: next.trail, uncertain: next.uncertain, notes: next.notes, at: step})
      }
    }
  }
  run(PATHS[path], 0, {probability: 1, packet: {...packet}, nat: {}, trail: [], uncertain: [], notes: [], at: first, decidedBy: 'absent'})
  return out
}
