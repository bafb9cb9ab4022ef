/**
 * A packet's way through a node whose Services are IPVS virtual services (kube-proxy's IPVS mode),
 * in kernel order. IPVS hooks netfilter in two places (net/netfilter/ipvs/ip_vs_core.c):
 *   LOCAL_IN  after filter INPUT, before nat INPUT (ip_vs_remote_request: NF_IP_PRI_NAT_SRC - 2)
 *   LOCAL_OUT after nat OUTPUT, before filter OUTPUT (ip_vs_local_request: NF_IP_PRI_NAT_DST + 1)
 * so a ClusterIP packet goes PREROUTING (kube-proxy's KUBE-SERVICES marks what must be masqueraded)
 * → the route finds the ClusterIP local (kube-ipvs0 holds it) → INPUT's filter (KUBE-IPVS-FILTER…)
 * → IPVS picks a real server and rewrites the destination (masquerading forwarding) → the rewritten
 * packet is sent out through LOCAL_OUT again (ip_vs_nat_send_or_cont: raw, mangle, filter OUTPUT; nat
 * OUTPUT is not run again, the connection's destination translation being set) → the route to the
 * real server → POSTROUTING, where KUBE-POSTROUTING masquerades marked packets.
 *
 * Real servers are branches: weight over the sum of weights (the rr scheduler gives every server of
 * weight > 0 the same turn, so an equal share; weight 0 is a server being drained, never picked).
 * A virtual service with no server of weight > 0 answers ICMP port unreachable and drops the packet
 * (ip_vs_leave), which is what a connection to a Service without endpoints meets in IPVS mode.
 */
import type {IptablesDump} from '../../parse/iptables-save.js'
import type {IpvsTable, IpvsVirtualService} from '../../parse/ipvsadm.js'
import {ipvsRealServerText, ipvsServiceLabel, ipvsServiceText} from '../../model/kube-proxy-ipvs-view.js'
import {toIp} from '../netfilter/addr.js'
import {evaluateHook, type EvaluateOptions} from '../netfilter/evaluate.js'
import type {Hook, NatState, TrailEntry} from '../netfilter/outcomes.js'
import {canonicalIp, type NetfilterContext, type Packet} from '../netfilter/packet.js'
import {afterHook, type Progress, type RouteFn, type TraversalPath, type TraverseOutcome} from '../netfilter/traverse.js'

export interface IpvsOptions extends EvaluateOptions {
  /** The Service port a virtual service implements ("ns/name:port"), quoted as the DNAT's comment. */
  name?: (vs: IpvsVirtualService) => string | undefined
}

type Step = {hook: Hook; table: string} | 'route' | 'ipvs'

const t = (hook: Hook, table: string): Step => ({hook, table})
const PRE: Step[] = [t('PREROUTING', 'raw'), t('PREROUTING', 'mangle'), t('PREROUTING', 'nat')]
const INPUT: Step[] = [t('INPUT', 'mangle'), t('INPUT', 'filter'), t('INPUT', 'security'), 'ipvs', t('INPUT', 'nat')]
const FORWARD: Step[] = [t('FORWARD', 'mangle'), t('FORWARD', 'filter'), t('FORWARD', 'security')]
const POST: Step[] = [t('POSTROUTING', 'mangle'), t('POSTROUTING', 'nat')]
const OUTPUT: Step[] = [t('OUTPUT', 'raw'), t('OUTPUT', 'mangle'), t('OUTPUT', 'nat'), 'ipvs', t('OUTPUT', 'filter'), t('OUTPUT', 'security'), 'route', ...POST]
/** After IPVS sends the rewritten packet: LOCAL_OUT again (nat OUTPUT skipped), the route, POSTROUTING. */
const AFTER_IPVS: Step[] = [t('OUTPUT', 'raw'), t('OUTPUT', 'mangle'), t('OUTPUT', 'filter'), t('OUTPUT', 'security'), 'route', ...POST]

const PATHS: Record<TraversalPath, Step[]> = {
  'forward': [...PRE, 'route', ...FORWARD, ...POST],
  'local-in': [...PRE, ...INPUT],
  'local-out': OUTPUT,
}


/** The virtual service a packet is addressed to: by protocol, address and port, or by firewall mark. */
export function findVirtualService(table: IpvsTable, packet: Packet): IpvsVirtualService | undefined {
  const dst = canonicalIp(packet.dst)
  for (const vs of table.services) {
    if (vs.protocol === 'fwmark') {
      if (vs.fwmark !== null && vs.fwmark !== 0 && vs.fwmark === packet.mark) return vs
      continue
    }
    if (vs.protocol === packet.protocol && vs.port === packet.dport && vs.address !== null && canonicalIp(vs.address) === dst) return vs
  }
  return undefined
}

function entry(vs: IpvsVirtualService, line: number, raw: string, effect: string, comment: string | undefined, branch?: number): TrailEntry {
  return {table: 'ipvs', chain: ipvsServiceLabel(vs), line, raw, kind: 'rule', effect, ipvs: true, ...(comment === undefined ? {} : {comment}), ...(branch === undefined || branch >= 1 ? {} : {branch})}
}

export function traverseIpvs(dump: IptablesDump, ipvs: IpvsTable, path: TraversalPath, packet: Packet, ctx: NetfilterContext, route?: RouteFn, options: IpvsOptions = {}): TraverseOutcome[] {
  const out: TraverseOutcome[] = []
  const decide = (p: Packet): {local: boolean; outIface?: string} => {
    const r = route?.(p)
    if (typeof r === 'string') return {local: false, outIface: r}
    if (r !== undefined) return r.local === true ? {local: true} : {local: false, ...(r.outIface === undefined ? {} : {outIface: r.outIface})}
    return {local: ctx.localAddresses.has(canonicalIp(p.dst))}
  }
  const accept = (s: Progress, delivery: 'local' | 'out'): void => {
    out.push({probability: s.probability, verdict: 'ACCEPT', decidedBy: s.decidedBy, packet: s.packet, nat: s.nat, trail: s.trail, uncertain: s.uncertain, notes: s.notes, at: s.at, delivery})
  }
  const run = (steps: Step[], i: number, s: Progress, delivery: 'local' | 'out', afterIpvs: boolean): void => {
    if (i >= steps.length) return accept(s, delivery)
    const step = steps[i] as Step
    if (step === 'route') {
      const d = decide(s.packet)
      if (d.local && path === 'forward' && !afterIpvs) return run(INPUT, 0, s, 'local', false)
      const packet = d.outIface === undefined ? s.packet : {...s.packet, outIface: d.outIface}
      return run(steps, i + 1, {...s, packet}, delivery, afterIpvs)
    }
    if (step === 'ipvs') return ipvsStep(steps, i, s, delivery)
    if (afterIpvs && step.table === 'nat' && step.hook === 'OUTPUT') return run(steps, i + 1, s, delivery, afterIpvs)
    for (const r of evaluateHook(dump, step.table, step.hook, s.packet, ctx, {...options, nat: s.nat})) {
      const next = afterHook(s, r, step)
      if (r.verdict === 'ACCEPT') run(steps, i + 1, next, delivery, afterIpvs)
      else out.push({...r, probability: next.probability, trail: next.trail, uncertain: next.uncertain, notes: next.notes, at: step})
    }
  }
  const ipvsStep = (steps: Step[], i: number, s: Progress, delivery: 'local' | 'out'): void => {
    // Only a connection's first packet is scheduled; later ones follow the IPVS connection entry.
    const vs = s.packet.ctstate === 'NEW' ? findVirtualService(ipvs, s.packet) : undefined
    if (!vs) return run(steps, i + 1, s, delivery, false)
    const hook: Hook = path === 'local-out' ? 'OUTPUT' : 'INPUT'
    const name = options.name?.(vs)
    const head = entry(vs, vs.line, ipvsServiceText(vs), `virtual service (${vs.scheduler})`, name)
    const live = vs.realServers.filter((rs) => rs.weight > 0)
    if (live.length === 0) {
      const drained = vs.realServers.length ? ` (${vs.realServers.length} real server(s) of weight 0, being drained)` : ''
      out.push({
        probability: s.probability, verdict: 'REJECT', rejectWith: 'icmp-port-unreachable', decidedBy: 'rule', packet: s.packet, nat: s.nat,
        trail: [...s.trail, {...head, effect: `no real server${drained}: IPVS answers ICMP port unreachable and drops it`}],
        uncertain: s.uncertain, notes: s.notes, at: {hook, table: 'ipvs'},
      })
      return
    }
    const total = live.reduce((n, rs) => n + rs.weight, 0)
    // -p (kube-proxy's sessionAffinity: ClientIP): a client scheduled within the timeout returns to its real server.
    const persistence = vs.persistent === null ? undefined
      : `${ipvsServiceLabel(vs)} is persistent for ${vs.persistent} s (sessionAffinity: ClientIP): a client scheduled within that time goes back to the same real server; the shares are those of a client not seen before`
    const equal = vs.scheduler === 'rr'
    const uncertain = equal || vs.scheduler === 'wrr' ? s.uncertain : [...s.uncertain, `IPVS scheduler ${vs.scheduler} picks by load or hash: the share of each real server is taken from its weight`]
    for (const rs of live) {
      const share = equal ? 1 / live.length : rs.weight / total
      const raw = ipvsRealServerText(vs, rs)
      if (rs.forwarding !== 'masq') {
        out.push({
          probability: s.probability * share, verdict: 'UNKNOWN', decidedBy: 'rule', packet: s.packet, nat: s.nat, trail: [...s.trail, head, entry(vs, rs.line, raw, 'real server', name, share)],
          uncertain: s.uncertain, notes: s.notes, at: {hook, table: 'ipvs'}, reason: `IPVS ${rs.forwarding === 'route' ? 'direct routing (-g)' : 'tunnelling (-i)'} to ${rs.address} is not traced (kube-proxy uses masquerading)`,
        })
        continue
      }
      const original = s.packet.dport === undefined ? {ip: s.packet.dst} : {ip: s.packet.dst, port: s.packet.dport}
      const packet: Packet = {...s.packet, dst: rs.address, dport: rs.port}
      const nat: NatState = {...s.nat, dnat: {ip: rs.address, port: rs.port, original, table: 'ipvs', chain: ipvsServiceLabel(vs), line: rs.line}}
      const dnat = entry(vs, rs.line, raw, `DNAT → ${toIp(rs.address)?.family === 6 ? `[${rs.address}]` : rs.address}:${rs.port} (${live.length === 1 ? 'its only real server' : `${vs.scheduler}: ${Math.round(share * 1000) / 10}%`})`, name, share)
      const note = path === 'local-out' ? [] : ['IPVS sends the rewritten packet out through OUTPUT (nat OUTPUT is not run again)']
      if (persistence) note.push(persistence)
      run(AFTER_IPVS, 0, {...s, probability: s.probability * share, packet, nat, trail: [...s.trail, head, dnat], uncertain, notes: [...s.notes, ...note], at: {hook, table: 'ipvs'}, decidedBy: 'rule'}, 'out', true)
    }
  }
  const first = PATHS[path][0] as {hook: Hook; table: string}
  run(PATHS[path], 0, {probability: 1, packet: {...packet}, nat: {}, trail: [], uncertain: [], notes: [], at: first, decidedBy: 'absent'}, path === 'local-in' ? 'local' : 'out', false)
  return out
}
