/**
 * One node's part of the path: the packet arrives (from a pod's bridge, from the underlay, or is
 * generated locally), netfilter is evaluated as the kernel does with the routing decision injected,
 * then ip_forward, the egress device, and either delivery to a local pod or the next node.
 * A Service's DNAT splits the walk: one leaf per endpoint the rules can pick.
 */
import type {NodeModel} from '../model/cluster.js'
import type {NodeDatapath} from '../model/node.js'
import type {Link} from '../parse/iproute2/links.js'
import {hostPort, parseIp} from '../net/cidr.js'
import {lookupRoute, type LookupResult} from '../net/route-lookup.js'
import type {TrailEntry} from '../datapath/netfilter/outcomes.js'
import {netfilterContext, type Packet} from '../datapath/netfilter/packet.js'
import type {TraverseOutcome} from '../datapath/netfilter/traverse.js'
import {nodeTraverse, nodeRulesMissing, natLabel} from './node-netfilter.js'
import {ipvsServiceLabel, ipvsServiceResolver, ipvsServiceText} from '../model/kube-proxy-ipvs-view.js'
import {findVirtualService} from '../datapath/ipvs/traverse.js'
import {bridgeState, downDeviceFor, podAttachment} from './bridge.js'
import {isPodFacingVeth} from '../model/pod-veth.js'
import {linkEvidence, linkIsUp, notGathered, sourceOf, sysctl, sysctlEvidence} from './evidence.js'
import {deniedByPolicy, judgePolicy, type PolicyJudgement} from './netpol.js'
import {trackedFlow} from './conntrack.js'
import {misdelivered, localPodByNeighbour, onOneSubnet} from './overlap.js'
import {calicoVtep, overlayStep, vxlanOverhead} from './overlay.js'
import {familyDatapath, familyTables} from '../model/node-family.js'
import {unroutedLocalPod} from './routed-veth.js'
import {fabricDelivery, nodeHoldingAddress, type FabricDelivery} from './vpc-fabric.js'
import {nodeCni} from '../model/node-cni.js'
import type {TraceEvidence} from './types.js'
import {restsOnMissingEvidence} from '../datapath/netfilter/match.js'
import {failLeaf, hop, packetBytes, podByIp, podRangeOf, type HopDraft, type Leaf, type Walk} from './walk.js'

const MAX_NODES = 6

export interface Arrival {
  node: string
  packet: Packet
  /** Absent: generated on the node (nat OUTPUT, not PREROUTING). */
  inIface?: string
  /** Label of the arrival hop ("cbr0", "node-2 eth0", "node-1"). */
  label: string
  /** The bridge port the packet came in by (the source pod's veth), when it is known. */
  inPort?: string
  /** Said first in the arrival hop's action ("generated on node-1 …"). */
  note?: string
  hops: HopDraft[]
  dnat?: Leaf['dnat']
  masquerade: boolean
  snat?: Leaf['snat']
  visited: string[]
}

export function deviceLabel(node: NodeDatapath | undefined, nodeName: string, dev: string): string {
  return node?.links?.find((l) => l.ifname === dev)?.kind === 'bridge' ? dev : `${nodeName} ${dev}`
}

function nodeOwning(w: Walk, ip: string): NodeModel | undefined {
  const pod = podByIp(w.cluster, ip)
  if (pod?.node) return w.cluster.nodes.find((n) => n.name === pod.node)
  const byAddress = w.cluster.nodes.find((n) => n.addresses.some((a) => a.address === ip))
  if (byAddress) return byAddress
  const range = podRangeOf(w, ip)
  return range ? w.cluster.nodes.find((n) => n.name === range.owner) : undefined
}

function trailEvidence(node: NodeDatapath, trail: TrailEntry[], family: 4 | 6): TraceEvidence[] {
  const src = sourceOf(node, familyDatapath(node, family).iptablesId)
  // nft rules (issue 15) are quoted with their table, chain and handle, from the nft evidence.
  const nftSrc = sourceOf(node, 'nft')
  // IPVS virtual services and real servers (issue 15) are quoted with their line of ipvsadm -S -n.
  const ipvsSrc = sourceOf(node, 'ipvsadm')
  return trail.filter((t) => t.kind === 'policy' || !/^jump /.test(t.effect) || /KUBE-(SVC|SEP|EXT|FW|NODEPORTS|NODE-PORT|LOAD-BALANCER)|^jump (service|external|local|endpoint|firewall)-/.test(t.effect)).map((t) => (t.nft
    ? {source: nftSrc, text: `${t.nft.family} ${t.table} ${t.chain} handle ${t.nft.handle}: ${t.raw}${t.effect ? ` (${t.effect})` : ''}`}
    : t.ipvs
      ? {source: ipvsSrc, text: `line ${t.line}: ${t.raw}${t.effect ? ` (${t.effect})` : ''}`}
      : {source: src, text: `${t.table} line ${t.line}: ${t.raw}${t.effect ? ` (${t.effect})` : ''}`}))
}

function routeTrail(node: NodeDatapath, r: LookupResult, family: 4 | 6): TraceEvidence[] {
  const f = familyDatapath(node, family)
  return r.trail.map((t) => ({source: `${sourceOf(node, f.rulesId)} / ${sourceOf(node, f.routesId)}`, text: t}))
}

/** Ready endpoint addresses of the Service a kube-proxy DNAT comment ("ns/name:port") names. */
function readyAddresses(w: Walk, comment: string | undefined): Set<string> | undefined {
  const m = /^([^/\s]+)\/([^:\s]+)/.exec(comment ?? '')
  if (!m) return undefined
  const slices = w.cluster.endpointSlices.filter((s) => s.namespace === m[1] && s.serviceName === m[2])
  return new Set(slices.flatMap((s) => s.endpoints.filter((e) => e.ready !== false).flatMap((e) => e.addresses)))
}

/** The most probable outcome per DNAT choice: one leaf per endpoint, not per rule split. */
function byEndpoint(outcomes: TraverseOutcome[]): {o: TraverseOutcome; probability: number}[] {
  const groups = new Map<string, {o: TraverseOutcome; probability: number}>()
  for (const o of outcomes) {
    const key = o.nat.dnat ? `${o.nat.dnat.ip}|${o.nat.dnat.port ?? ''}` : ''
    const g = groups.get(key)
    if (!g) groups.set(key, {o, probability: o.probability})
    else {
      g.probability += o.probability
      if (o.probability > g.o.probability) g.o = o
    }
  }
  return [...groups.values()]
}

export function visitNode(w: Walk, a: Arrival): Leaf[] {
  const dp = w.node(a.node)
  const rest = {...(a.dnat ? {dnat: a.dnat} : {}), masquerade: a.masquerade, ...(a.snat ? {snat: a.snat} : {})}
  const arrival = hop(a.node, a.inIface ?? null, a.label, '', 'ok', [])
  if (!dp) return [failLeaf(a.hops, {...arrival, action: `no evidence for ${a.node} in the snapshot`}, 'evidence-missing', `${a.node}'s datapath was not gathered`, rest, true)]
  if (a.visited.length >= MAX_NODES) return [failLeaf(a.hops, {...arrival, action: 'the path visits too many nodes (a routing loop?)'}, 'route-nexthop-wrong', `routing loop through ${a.visited.join(', ')}`, rest)]
  const fam = familyDatapath(dp, w.family)
  // Addresses too: without them a node's eth0 (a veth in a lab, on kind) reads as a pod's routed veth.
  const missing = [...(fam.routes === undefined ? [fam.routesId] : []), ...(dp.links === undefined ? ['links' as const] : []), ...(dp.addrs === undefined ? ['addrs' as const] : []), ...nodeRulesMissing(dp, w.family)]
  if (missing.length > 0) {
    const ev = missing.map((id) => notGathered(dp, id))
    return [failLeaf(a.hops, {...arrival, evidence: ev, action: `${missing.join(', ')} of ${a.node} not in evidence`}, 'evidence-missing', `cannot evaluate ${a.node}: ${missing.join(', ')} not gathered`, rest, true)]
  }
  // Calico's eBPF dataplane, Cilium replacing kube-proxy: programs forward and translate before the tables below are consulted.
  const ebpf = nodeCni(dp, w.cluster.cni?.kubeProxy).ebpf
  if (ebpf) {
    const h = {...arrival, evidence: ebpf.evidence.map((e) => ({source: e.source, text: e.text})), action: `${ebpf.what} forwards pod traffic on ${a.node} in eBPF programs, which no evidence shows: its routing tables and iptables are not what decides`}
    return [failLeaf(a.hops, h, 'unknown-datapath', `${a.node}: ${ebpf.what}, whose eBPF datapath is not in evidence`, rest, true)]
  }
  // A flow conntrack already holds (--source-port): not NEW, so no nat table; the entry decides the translation.
  const tracked = !w.reply && !a.dnat ? trackedFlow(w, dp, a, arrival, rest) : undefined
  if (tracked?.leaf) return [tracked.leaf]
  if (tracked?.next) return visitNode(w, tracked.next)
  const tables = familyTables(dp, w.family)
  const nf = netfilterContext(dp)
  let packet = a.packet
  const unSnat = w.reply?.unSnat
  const replyNotes: string[] = []
  if (unSnat && unSnat.node === a.node && packet.dst === unSnat.address) {
    // conntrack undoes the request's masquerade before routing: the reply goes on to the client.
    packet = {...packet, dst: unSnat.original}
    replyNotes.push(`conntrack reverses the masquerade: destination ${unSnat.address} → ${unSnat.original}`)
  }
  const first = lookupRoute(tables, {dst: packet.dst, ...(packet.src ? {src: packet.src} : {}), ...(a.inIface ? {iif: a.inIface} : {})})
  if (!a.inIface && !packet.src) {
    // A locally generated packet takes the route's preferred source, else the device's first address.
    const devAddr = first.dev ? dp.addrs?.find((i) => i.ifname === first.dev)?.addrs.find((x) => x.family === fam.addrFamily && !x.local.startsWith('fe80:'))?.local : undefined
    packet = {...packet, src: first.prefsrc ?? devAddr ?? w.source.ip}
  }
  const inBridge = a.inIface ? dp.links?.find((l) => l.ifname === a.inIface && l.kind === 'bridge') : undefined
  // Pod to pod on one bridge is switched, not routed: no ip_forward, and iptables only with br_netfilter.
  const bridged = inBridge !== undefined && first.kind === 'unicast' && first.dev === a.inIface && !first.gateway && !a.dnat && onOneSubnet(dp, inBridge.ifname, packet.src, packet.dst)
  const brNf = sysctl(dp, fam.bridgeNfKey)
  const skipNetfilter = bridged && brNf?.value !== '1'
  const unDnat = w.reply?.dnat
  if (skipNetfilter && unDnat?.node === a.node) {
    // The request was DNATed here; its reply, switched on the bridge without br_netfilter, never meets conntrack.
    const ev: TraceEvidence[] = brNf ? [sysctlEvidence(dp, brNf)] : [{source: sourceOf(dp, 'sysctls'), text: `(no ${fam.bridgeNfKey}: br_netfilter is not loaded)`}]
    const value = brNf ? `${fam.bridgeNfKey.slice('net.bridge.'.length)} is ${brNf.value}` : 'br_netfilter is not loaded'
    const h = {...arrival, action: `${[...(a.note ? [a.note] : []), ...replyNotes].join('; ')}${a.note || replyNotes.length ? '; ' : ''}switched on ${a.inIface ?? ''} from ${packet.src} to ${packet.dst}, but ${value}: iptables and conntrack never see it, so its source is not rewritten back to ${unDnat.original} and the client drops it`, evidence: ev}
    return [failLeaf(a.hops, h, 'bridge-nf-off', `${a.node}: ${value}, so a reply switched on ${a.inIface ?? ''} is not un-DNATed (it comes from ${packet.src}, not ${unDnat.original})`, rest)]
  }
  const routeFn = (p: Packet) => {
    const r = lookupRoute(tables, {dst: p.dst, src: p.src, ...(a.inIface ? {iif: a.inIface} : {}), fwmark: p.mark})
    return r.kind === 'local' || heldAnycast(dp, r, p.dst) ? {local: true as const} : {local: false as const, ...(r.dev ? {outIface: r.dev} : {})}
  }
  const outcomes: {o: TraverseOutcome | undefined; probability: number}[] = skipNetfilter
    ? [{o: undefined, probability: 1}]
    : byEndpoint(nodeTraverse(dp, a.inIface ? 'forward' : 'local-out', packet, nf, routeFn, w.family, {name: (vs) => ipvsServiceResolver(w.cluster)(vs)?.portName}))
  const leaves: Leaf[] = []
  // One outcome of netfilter: the leaves it leads to (pushed onto `leaves`).
  const follow = (o: TraverseOutcome | undefined, probability: number): void => {
    const p = o?.packet ?? packet
    const evidence: TraceEvidence[] = o ? trailEvidence(dp, o.trail, w.family) : brNf ? [sysctlEvidence(dp, brNf)] : []
    const notes: string[] = [...(a.note ? [a.note] : []), ...replyNotes, ...(bridged ? [`switched on ${a.inIface ?? ''} (same bridge; br_netfilter ${skipNetfilter ? 'off: iptables not consulted' : 'on: iptables consulted'})`] : [])]
    let dnat = a.dnat
    const newDnat = o?.nat.dnat && !a.dnat ? o.nat.dnat : undefined
    if (newDnat) {
      dnat = {ip: newDnat.ip, port: newDnat.port ?? null, probability, at: a.hops.length, node: a.node, original: packet.dst}
      notes.push(`DNAT to ${hostPort(newDnat.ip, newDnat.port)} (${Math.round(probability * 1000) / 10}%)`)
    }
    const masquerade = a.masquerade || o?.nat.masquerade !== undefined
    if (o?.nat.masquerade) notes.push('masqueraded')
    const snatHere = (o?.nat.masquerade || o?.nat.snat) && p.src !== packet.src ? {node: a.node, address: p.src, original: packet.src} : undefined
    const snat = snatHere ?? a.snat
    const r = {...(dnat ? {dnat} : {}), masquerade, ...(snat ? {snat} : {})}
    const at = (action: string, extra: TraceEvidence[] = []): HopDraft => ({...arrival, action: [...notes, action].join('; '), evidence: [...evidence, ...extra]})
    if (newDnat) {
      const dnatRule = o?.trail.find((t) => t.kind === 'rule' && t.chain === newDnat.chain && t.line === newDnat.line)
      const label = natLabel(dnatRule)
      const ready = readyAddresses(w, label)
      if (ready && !ready.has(newDnat.ip)) {
        leaves.push(failLeaf(a.hops, at(`DNAT to ${newDnat.ip}, which no ready endpoint of ${label ?? 'the Service'} has`), 'nat-stale-endpoint', `${a.node} DNATs ${label ?? 'the Service'} to ${newDnat.ip}, which is not a ready endpoint in its EndpointSlices`, r))
        return
      }
    }
    if (o && o.verdict !== 'ACCEPT' && o.at.hook === 'PREROUTING') {
      leaves.push(netfilterFail(w, a, o, at))
      return
    }
    if (o?.delivery === 'local') {
      if (o.verdict !== 'ACCEPT') leaves.push(netfilterFail(w, a, o, at))
      else if (!w.reply && w.destination.kind === 'service' && p.dst === w.destination.ip && !o.nat.dnat) {
        // IPVS mode: the ClusterIP is local (kube-ipvs0), but no virtual service took the packet.
        const eps = readyEndpointCount(w)
        const vs = `${w.protocol.toUpperCase()} ${p.dst}:${p.dport ?? ''}`
        leaves.push(failLeaf(a.hops, at(`${p.dst} is a local address of ${a.node}, but no IPVS virtual service ${vs} takes it: it reaches the node's own stack, where nothing listens`, dp.ipvs ? [{source: sourceOf(dp, 'ipvsadm'), text: `no virtual service ${vs}`}] : []), 'nat-missing-service', `${a.node} has no NAT rule for ${w.destination.name ?? p.dst}${eps ? ` although it has ${eps} ready endpoint(s)` : ''} (no IPVS virtual service ${vs})`, r))
      } else leaves.push({hops: [...a.hops, at(`delivered to ${a.node} itself (${p.dst} is a local address)`)], verdict: 'delivered', ...r, delivered: {node: a.node, packet: p}})
      return
    }
    const route = lookupRoute(tables, {dst: p.dst, src: p.src, ...(a.inIface ? {iif: a.inIface} : {}), fwmark: p.mark})
    const rEv = routeTrail(dp, route, w.family)
    if (route.kind === 'blackhole' || route.kind === 'unreachable' || route.kind === 'prohibit') {
      // Calico's blackhole for the node's own block catches one of its pods whose /32 is gone (lost,
      // or dropped with its veth set down), or an address no pod has: said as on any routed-veth node.
      const own = route.kind === 'blackhole' && nodeOwning(w, p.dst)?.name === a.node ? unroutedLocalPod(w, dp, p.dst) : undefined
      if (own) {
        leaves.push(failLeaf(a.hops, at(`the route to ${p.dst} is the blackhole for ${a.node}'s own block`, own.evidence), own.code, own.message, r))
        return
      }
      leaves.push(failLeaf(a.hops, at(`the route to ${p.dst} is ${route.kind}`, rEv), 'route-blackhole', `${a.node} has a ${route.kind} route for ${p.dst}`, r))
      return
    }
    const local = route.kind === 'local' || heldAnycast(dp, route, p.dst)
    const down = !local ? downDeviceFor(dp, p.dst) : undefined
    if (down && (route.kind !== 'unicast' || route.dev !== down.ifname)) {
      leaves.push(failLeaf(a.hops, at(`${down.ifname}, which holds ${p.dst}'s subnet, is down (its connected route is gone)`, [...rEv, linkEvidence(dp, down)]), 'link-down', `${a.node}: ${down.ifname} is down`, r))
      return
    }
    if (route.kind === 'no-route') {
      leaves.push(failLeaf(a.hops, at(`no route to ${p.dst}`, rEv), 'route-missing', `${a.node} has no route to ${p.dst}`, r))
      return
    }
    if (local) {
      const how = route.kind === 'anycast' ? ` (${p.dst} has an anycast route and is an address ${a.node} holds)` : ''
      leaves.push(o && o.verdict !== 'ACCEPT' ? netfilterFail(w, a, o, at) : {hops: [...a.hops, at(`delivered to ${a.node} itself${how}`, rEv)], verdict: 'delivered', ...r, delivered: {node: a.node, packet: p}})
      return
    }
    if (route.kind !== 'unicast' || !route.dev) {
      leaves.push(failLeaf(a.hops, at(`route to ${p.dst} is ${route.kind}`, rEv), 'unknown-datapath', `${a.node}: a ${route.kind} route is not traced`, r, true))
      return
    }
    const forwarded = a.inIface !== undefined && !bridged
    if (forwarded) {
      const key = fam.forwardingKey
      const f = sysctl(dp, key)
      if (!f) {
        leaves.push(failLeaf(a.hops, at(`${key} not in evidence`, rEv), 'evidence-missing', `${a.node}: ${key} was not gathered`, r, true))
        return
      }
      rEv.push(sysctlEvidence(dp, f))
      if (f.value !== '1') {
        // IPv6 forwarding is its own switch: ip6_forward reads conf.all.forwarding, whatever ip_forward says.
        const short = w.family === 6 ? 'IPv6 forwarding' : 'ip_forward'
        leaves.push(failLeaf(a.hops, at(`${short} is ${f.value}: ${a.node} does not forward ${w.family === 6 ? 'IPv6' : ''}`.trimEnd(), rEv), 'ip-forward-off', `${key} is ${f.value} on ${a.node}`, r))
        return
      }
    }
    if (o && o.verdict !== 'ACCEPT') {
      leaves.push(netfilterFail(w, a, o, (action, extra = []) => at(action, [...rEv, ...extra])))
      return
    }
    // A Service address routed on without DNAT: the node has no rule for it.
    if (!w.reply && w.destination.kind === 'service' && p.dst === w.destination.ip) {
      const eps = readyEndpointCount(w)
      // IPVS mode: a virtual service only sees packets for local addresses, which kube-ipvs0 makes of each ClusterIP.
      const vs = dp.ipvs ? findVirtualService(dp.ipvs, p) : undefined
      if (vs) {
        const label = ipvsServiceLabel(vs)
        leaves.push(failLeaf(a.hops, at(`${p.dst} is routed by ${route.dev} without DNAT: IPVS has virtual service ${label}, but ${p.dst} is not a local address (not on kube-ipvs0), so IPVS never sees the packet`, [...rEv, {source: sourceOf(dp, 'ipvsadm'), text: `line ${vs.line}: ${ipvsServiceText(vs)}`}]), 'nat-missing-service', `${a.node} does not translate ${w.destination.name ?? p.dst}: its IPVS virtual service ${label} is unused, ${p.dst} not being bound to kube-ipvs0`, r))
        return
      }
      leaves.push(failLeaf(a.hops, at(`${p.dst} is routed by ${route.dev} without DNAT: no kube-proxy rule for ${w.destination.name ?? p.dst}`, rEv), 'nat-missing-service', `${a.node} has no NAT rule for ${w.destination.name ?? p.dst}${eps ? ` although it has ${eps} ready endpoint(s)` : ''}`, r))
      return
    }
    leaves.push(...egress(w, a, dp, p, route, at('', rEv), r))
  }
  for (const {o, probability} of outcomes) {
    const from = leaves.length
    follow(o, probability)
    // A branch that rests on rules' inputs not gathered (an ipset whose listing timed out) proves no failure.
    const gap = o?.uncertain.find(restsOnMissingEvidence)
    if (gap) for (let i = from; i < leaves.length; i++) leaves[i] = unprovenFailure(leaves[i] as Leaf, a.node, gap)
  }
  return leaves
}

/**
 * A leaf reached only by assuming how a rule matched, where the evidence to decide it was not
 * gathered: a failure on it is not proven, so it is unknown (evidence-missing), naming the assumption.
 */
function unprovenFailure(leaf: Leaf, node: string, gap: string): Leaf {
  if (leaf.verdict === 'delivered' || !leaf.failure || leaf.failure.code === 'evidence-missing') return leaf
  const {hop: failed, message} = leaf.failure
  const assumed = `${node}'s iptables-save ${gap}`
  const h: HopDraft = {...failed, status: 'unknown', code: 'evidence-missing', action: `${failed.action} — not proven: ${assumed}`}
  return {...leaf, hops: leaf.hops.map((x) => (x === failed ? h : x)), verdict: 'unknown', failure: {code: 'evidence-missing', message: `${message} — not proven: ${assumed}`, hop: h}}
}

/** The destination Service's ready endpoints in the API (0 for anything else). */
function readyEndpointCount(w: Walk): number {
  const svc = w.destination.kind === 'service' ? w.destination.service : undefined
  if (!svc) return 0
  return w.cluster.endpointSlices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name).reduce((n, s) => n + s.endpoints.filter((e) => e.ready !== false).length, 0)
}

function netfilterFail(w: Walk, a: Arrival, o: TraverseOutcome, at: (action: string, extra?: TraceEvidence[]) => HopDraft): Leaf {
  const rest = {...(a.dnat ? {dnat: a.dnat} : {}), masquerade: a.masquerade, ...(a.snat ? {snat: a.snat} : {})}
  const where = `${o.at.table} ${o.at.hook}`
  // A filter drop where the API's NetworkPolicy denies this very connection: the rule is that policy, enforced.
  const policy = o.at.table === 'filter' && (o.verdict === 'DROP' || o.verdict === 'REJECT') ? deniedByPolicy(w, o.packet) : undefined
  if (policy) {
    return failLeaf(a.hops, at(`${o.verdict === 'DROP' ? 'dropped' : 'rejected'} in ${where}, enforcing: ${policy.message}`, policy.evidence), 'netpol-denied', `${policy.message} (enforced on ${a.node} in ${where})`, rest)
  }
  if (o.at.table === 'ipvs' && o.verdict === 'REJECT') {
    // kube-proxy's IPVS mode keeps a Service port's virtual service when it has no endpoints, with no
    // real server: IPVS answers ICMP port unreachable and drops the packet (ip_vs_leave).
    const vs = o.trail.at(-1)
    const label = `IPVS virtual service ${vs?.chain ?? ''}${vs?.comment ? ` (${vs.comment})` : ''}`
    const ready = !w.reply && w.destination.kind === 'service' ? readyEndpointCount(w) : 0
    if (ready > 0) return failLeaf(a.hops, at(`${label} has no real server although the Service has ${ready} ready endpoint(s): rejected (icmp-port-unreachable)`), 'nat-missing-service', `${a.node}: ${label} has no real server although it has ${ready} ready endpoint(s)`, rest)
    return failLeaf(a.hops, at(`${label} has no real server: IPVS answers ${o.rejectWith ?? 'icmp-port-unreachable'} and drops it`), 'netfilter-reject', `${a.node} rejects it: ${label} has no real server (no endpoints)`, rest)
  }
  // A ClusterIP still untranslated when a rule drops it: kube-proxy's nftables mode drops (or rejects)
  // what its own table has no Service for ("Drop traffic to unallocated ClusterIPs"). A Service the
  // API has with ready endpoints is then one this node's kube-proxy never programmed, as when the
  // iptables-mode node routes it on untranslated.
  const eps = (o.verdict === 'DROP' || o.verdict === 'REJECT') && !w.reply && !a.dnat && w.destination.kind === 'service' && o.packet.dst === w.destination.ip ? readyEndpointCount(w) : 0
  if (eps > 0) {
    const name = w.destination.name ?? o.packet.dst
    return failLeaf(a.hops, at(`${o.verdict === 'DROP' ? 'dropped' : 'rejected'} untranslated in ${where}: no kube-proxy rule for ${name}`), 'nat-missing-service', `${a.node} has no NAT rule for ${name} although it has ${eps} ready endpoint(s) (${where} ${o.verdict === 'DROP' ? 'drops' : 'rejects'} it)`, rest)
  }
  if (o.verdict === 'REJECT') return failLeaf(a.hops, at(`rejected (${o.rejectWith ?? 'icmp-port-unreachable'}) in ${where}`), 'netfilter-reject', `${a.node} rejects it in ${where}${o.trail.at(-1)?.comment ? ` (${o.trail.at(-1)?.comment})` : ''}`, rest)
  if (o.verdict === 'DROP') {
    const policy = o.decidedBy === 'policy' && o.at.hook === 'FORWARD'
    return failLeaf(a.hops, at(policy ? `dropped by the ${o.at.hook} policy DROP` : `dropped in ${where}`), policy ? 'forward-drop' : 'netfilter-drop', policy ? `${a.node}: FORWARD policy DROP and no rule accepts it` : `${a.node} drops it in ${where}`, rest)
  }
  // Rules not gathered (an nft table whose listing timed out) are missing evidence, not a datapath knet cannot read.
  if (o.decidedBy === 'missing') {
    // The listing of that table, as it ended (nft-evidence.ts records one per table it could not read).
    const dp = w.node(a.node)
    const ids = dp ? Object.keys(dp.evidence).filter((id) => id.startsWith('nft-table:') && id.endsWith(`:${o.at.table}`)) : []
    const ev = dp ? ids.map((id) => notGathered(dp, id)) : []
    return failLeaf(a.hops, at(`netfilter cannot be evaluated in ${where}: ${o.reason ?? 'rules not in evidence'}`, ev), 'evidence-missing', `${a.node}: ${o.reason ?? 'netfilter rules not in evidence'}`, rest, true)
  }
  return failLeaf(a.hops, at(`netfilter verdict ${o.verdict} in ${where}${o.reason ? `: ${o.reason}` : ''}`), 'unknown-datapath', `${a.node}: netfilter could not be evaluated (${o.reason ?? o.verdict})`, rest, true)
}

/** After the routing decision: to a pod on this node, over the underlay, or through the overlay. */
function egress(w: Walk, a: Arrival, dp: NodeDatapath, p: Packet, route: LookupResult, decided: HopDraft, r: Pick<Leaf, 'dnat' | 'masquerade'>): Leaf[] {
  const dev = route.dev as string
  const link = dp.links?.find((l) => l.ifname === dev)
  const owner = nodeOwning(w, p.dst)
  const decision = `${describeRouteDecision(route)}`
  const evalHop: HopDraft = {...decided, action: [decided.action, decision].filter(Boolean).join('; ')}
  if (!link) return [failLeaf(a.hops, evalHop, 'evidence-missing', `${a.node}: the route names ${dev}, which is not among its links`, r, true)]
  const hops = [...a.hops, evalHop]
  const apiPod = podByIp(w.cluster, p.dst)
  // An address the API does not list (a second address on a pod's eth0): the pod whose MAC it has here.
  const local = apiPod || (link.kind !== 'bridge') ? undefined : localPodByNeighbour(w, dp, dev, p.dst, a.node)
  const targetPod = apiPod ?? local?.pod
  const mtuFail = (mtu: number | undefined, where: HopDraft): Leaf | undefined =>
    w.size !== undefined && mtu !== undefined && packetBytes(w.size, w.protocol, w.family) > mtu
      ? failLeaf(hops, where, 'mtu-exceeded', `a ${packetBytes(w.size, w.protocol, w.family)}-byte ${w.family === 6 ? 'IPv6 ' : ''}packet does not fit the MTU ${mtu} of ${where.label}`, r)
      : undefined
  const isPodSide = link.kind === 'bridge' || isPodFacingVeth(dp, link)
  if (isPodSide) {
    if (!targetPod || targetPod.node !== a.node) {
      const m = misdelivered(w, dp, route, p.dst)
      return [failLeaf(a.hops, {...evalHop, evidence: [...evalHop.evidence, ...m.evidence]}, m.code, m.message, r, m.unknown === true)]
    }
    const out: HopDraft[] = []
    if (link.kind === 'bridge' && dev !== a.inIface) {
      const b = bridgeState(dp, dev)
      const h = hop(a.node, dev, dev, b.action, b.status, b.evidence, b.code)
      if (b.status !== 'ok') return [failLeaf([...hops, ...out], h, b.code ?? 'link-down', `${a.node}: ${b.action}`, r, b.status === 'unknown')]
      out.push(h)
    } else if (link.kind === 'bridge' && !linkIsUp(link)) {
      return [failLeaf(a.hops, {...evalHop, evidence: [...evalHop.evidence, linkEvidence(dp, link)]}, 'link-down', `${a.node}: ${dev} is down`, r)]
    }
    const att = podAttachment(dp, p.dst, dev)
    const vethHop = hop(a.node, att.device, att.device ?? 'veth?', att.action, att.status, att.evidence, att.code)
    if (att.status !== 'ok') return [failLeaf([...hops, ...out], vethHop, att.code ?? 'evidence-missing', `${a.node}: ${att.action}`, r, att.status === 'unknown')]
    const mtu = mtuFail(link.mtu, vethHop)
    if (mtu) return [mtu]
    // Back out of the port it came in by (a pod reaching itself through a Service): only with hairpin on.
    const port = att.device ? dp.links?.find((l) => l.ifname === att.device) : undefined
    const sameBridge = link.kind === 'bridge' && a.inIface === dev
    if (!w.reply && sameBridge && port && (a.inPort === port.ifname || p.dst === w.source.ip) && port.bridgePort?.hairpin === false) {
      const h = {...vethHop, action: `${port.ifname} is the port the packet came in by, and its hairpin mode is off: ${dev} does not send it back`, evidence: [...vethHop.evidence]}
      return [failLeaf([...hops, ...out], h, 'hairpin-off', `${a.node}: ${port.ifname} has hairpin off, so ${targetPod.name} cannot reach itself through ${dev}`, r)]
    }
    out.push(vethHop)
    const podEvidence: TraceEvidence[] = local ? local.evidence : [{source: `Pod ${targetPod.namespace}/${targetPod.name}`, text: `status.podIP: ${p.dst}; spec.nodeName: ${targetPod.node ?? ''}`}]
    const podHop = hop(a.node, 'eth0', `${targetPod.name} eth0`, `delivered to pod ${targetPod.namespace}/${targetPod.name} (${hostPort(p.dst, p.dport)})`, 'ok', podEvidence)
    const delivered = {node: a.node, packet: p, pod: targetPod}
    // The reply of an allowed connection is admitted by every policy (they are stateful).
    if (w.reply) return [{hops: [...hops, ...out, podHop], verdict: 'delivered', ...r, delivered}]
    // NetworkPolicy, from the API objects: egress of the source pod, ingress of this one, on the translated port.
    const dport = p.dport ?? null
    const judgements = [
      ...(w.source.pod ? [judgePolicy(w.cluster, 'Egress', w.source.pod, {ip: p.dst, pod: targetPod}, w.protocol, dport, targetPod)] : []),
      r.masquerade
        ? masqueradedIngress(w, targetPod, dport)
        : judgePolicy(w.cluster, 'Ingress', targetPod, {ip: w.source.ip, ...(w.source.pod ? {pod: w.source.pod} : {})}, w.protocol, dport, targetPod),
    ]
    const bad = judgements.find((j) => j.status === 'fail') ?? judgements.find((j) => j.status === 'unknown')
    if (bad) {
      const h = {...podHop, action: bad.message, evidence: [...podHop.evidence, ...bad.evidence]}
      return [failLeaf([...hops, ...out], h, bad.status === 'fail' ? 'netpol-denied' : 'evidence-missing', bad.message, r, bad.status === 'unknown')]
    }
    const admitted = judgements.flatMap((j) => j.evidence)
    return [{hops: [...hops, ...out, {...podHop, evidence: [...podHop.evidence, ...admitted]}], verdict: 'delivered', ...r, delivered}]
  }
  // One of this node's own pods, routed away from it: on a routed-veth node its veth is down or its route is missing.
  const unrouted = owner?.name === a.node ? unroutedLocalPod(w, dp, p.dst, {result: route, ...(p.src ? {src: p.src} : {})}) : undefined
  if (unrouted) return [failLeaf(a.hops, {...evalHop, evidence: [...evalHop.evidence, ...unrouted.evidence]}, unrouted.code, unrouted.message, r)]
  if (!linkIsUp(link)) {
    const h = hop(a.node, dev, deviceLabel(dp, a.node, dev), `${dev} is down`, 'fail', [linkEvidence(dp, link)], 'link-down')
    return [failLeaf(hops, h, 'link-down', `${a.node}: ${dev} is down`, r)]
  }
  const ownerName = owner?.name
  if (link.kind === 'vxlan') {
    const gw = route.gateway ?? p.dst
    const step = overlayStep(dp, link, gw)
    const h = hop(a.node, dev, `${a.node} ${dev}`, step.action, step.ok ? 'ok' : 'fail', step.evidence)
    const tunnel = calicoVtep(w.cluster.nodes, owner, gw, dev, p.dst)
    if (tunnel.named) {
      h.action += `; ${gw} is ${tunnel.named.node}'s VXLAN tunnel address`
      h.evidence.push(tunnel.named.evidence)
    }
    // A stale route: its gateway is not the tunnel address the owner's Node carries, and the VTEP chain behind it fails.
    if (tunnel.stale && (!step.ok || !step.vtep)) return [failLeaf(hops, {...h, evidence: [...h.evidence, ...tunnel.stale.evidence]}, 'route-nexthop-wrong', `${a.node}: ${tunnel.stale.message}`, r)]
    if (!step.ok || !step.vtep) return [failLeaf(hops, h, step.code ?? 'route-missing', `${a.node}: ${step.action}`, r, step.code === 'evidence-missing')]
    const mtu = mtuFail(step.mtu, h)
    if (mtu) return [mtu]
    const overhead = vxlanOverhead(step.vtep)
    const outer = w.size === undefined ? undefined : packetBytes(w.size, w.protocol, w.family) + overhead
    const fragmented = outer !== undefined && step.underlayMtu !== undefined && outer > step.underlayMtu
    if (fragmented) h.action += `; the ${outer}-byte encapsulated packet is bigger than ${step.underlayDev ?? 'the underlay'}'s MTU ${step.underlayMtu}: it leaves in fragments`
    const vtepNode = w.cluster.nodes.find((n) => n.addresses.some((x) => x.address === step.vtep))
    const under = hop(null, step.vtep, step.vtep, `underlay to ${vtepNode ? `${vtepNode.name}'s InternalIP` : 'an address no node has'} ${step.vtep} by ${step.underlayDev ?? '?'}`, 'ok', [...(step.underlayEvidence ?? []), ...nodeAddressEvidence(vtepNode, step.vtep)])
    if (!vtepNode || (ownerName !== undefined && vtepNode.name !== ownerName)) {
      const why = tunnel.stale ? `; ${tunnel.stale.message}` : ''
      return [failLeaf([...hops, h], {...under, evidence: [...under.evidence, ...(tunnel.stale?.evidence ?? [])]}, 'route-nexthop-wrong', `${a.node} sends ${p.dst} to VTEP ${step.vtep}${vtepNode ? ` (${vtepNode.name})` : ''}, but ${p.dst} is on ${ownerName ?? 'no node'}${why}`, r)]
    }
    const remote = w.node(vtepNode.name)
    const remoteVxlan = receivingVxlan(remote, step.vtep, step.vni)
    // Links that were not gathered (a timed-out `ip link`) say nothing about the VXLAN device: unknown, not missing.
    if (remote && !remote.links) {
      return [failLeaf([...hops, h], {...under, evidence: [...under.evidence, notGathered(remote, 'links')]}, 'evidence-missing', `links of ${vtepNode.name} were not gathered: whether it has a VXLAN device with VNI ${step.vni ?? '?'} is not known`, r, true)]
    }
    if (remote && !remoteVxlan) return [failLeaf([...hops, h], under, 'route-missing', `${vtepNode.name} has no VXLAN device with VNI ${step.vni ?? '?'}`, r)]
    const tooBig = fragmented ? undefined : receiveMtu(w, remote, step.vtep, overhead)
    if (tooBig) return [failLeaf([...hops, h], {...under, evidence: [...under.evidence, tooBig.evidence]}, 'mtu-exceeded', tooBig.message, r)]
    const inIface = remoteVxlan?.ifname ?? dev
    return visitNode(w, {...a, note: undefined, inPort: undefined, node: vtepNode.name, packet: {...p, inIface, outIface: undefined}, inIface, label: `${vtepNode.name} ${inIface}`, hops: [...hops, h, under], ...r, visited: [...a.visited, a.node]})
  }
  // Underlay: the next hop must be the node that owns the destination.
  const nextHop = route.gateway ?? p.dst
  const nextNode = w.cluster.nodes.find((n) => n.addresses.some((x) => x.address === nextHop))
  // Calico's IPIP (tunl0): routed like BGP to the next hop's node, each packet in an outer IPv4 header (20 bytes).
  const ipip = link.kind === 'ipip'
  const outHop = hop(a.node, dev, deviceLabel(dp, a.node, dev), `leaves by ${dev}${link.mtu ? ` (mtu ${link.mtu})` : ''}${ipip ? `, encapsulated in IPIP (${IPIP_OVERHEAD} more bytes) to ${nextHop}` : ''}`, 'ok', [linkEvidence(dp, link)])
  const mtu = mtuFail(link.mtu, outHop)
  if (mtu) return [mtu]
  const holder = owner ? undefined : nodeHoldingAddress(w, p.dst)
  const holderFabric = holder && holder.name !== a.node ? fabricDelivery(w, dp, dev, nextHop, p.dst, holder) : undefined
  if (holder && holderFabric) return [...fabricOnward(w, a, p, r, holderFabric, [...hops, outHop], hop(null, nextHop, nextHop, '', 'ok', []))]
  if (!owner) {
    const h = hop(null, nextHop, nextHop, `leaves the cluster towards ${nextHop}; what happens beyond is not in evidence`, 'unknown', [])
    return [failLeaf([...hops, outHop], h, 'evidence-missing', `${p.dst} belongs to no node in the cluster state; the path beyond ${a.node} ${dev} is not traced`, r, true)]
  }
  const underHop = hop(null, nextHop, nextHop, `next hop ${nextHop}${nextNode ? ` (${nextNode.name}'s ${nextNode.addresses.find((x) => x.address === nextHop)?.type ?? 'address'})` : ''}`, 'ok', nodeAddressEvidence(nextNode, nextHop))
  // A pod that is an address of this device's subnet (AWS VPC CNI): the subnet itself delivers it to its node.
  const fabric = !nextNode && owner.name !== a.node ? fabricDelivery(w, dp, dev, nextHop, p.dst, owner) : undefined
  if (fabric) return fabricOnward(w, a, p, r, fabric, [...hops, outHop], underHop)
  if (owner.name === a.node || !nextNode || nextNode.name !== owner.name) {
    // The owner's pod range: its spec.podCIDR, or an IPAM block (Calico's /26) read from the routes.
    const cidr = podRangeOf(w, p.dst, owner.name)?.cidr
    const specific = route.route && cidr ? route.route.prefixLength >= (parseInt(cidr.split('/')[1] ?? '0', 10)) : false
    const code = specific || nextNode ? 'route-nexthop-wrong' : 'route-missing'
    const msg = code === 'route-missing'
      ? `${a.node} has no route for ${cidr ?? p.dst} (${owner.name}); ${p.dst} follows ${route.route ? describeRouteDecision(route) : 'another route'}`
      : `${a.node} sends ${p.dst} to ${nextHop}${nextNode ? ` (${nextNode.name})` : ''}, but it is on ${owner.name} (${owner.internalIPs.join(', ')})`
    return [failLeaf([...hops, outHop], underHop, code, msg, r)]
  }
  const remote = w.node(nextNode.name)
  // Decapsulated, the inner packet comes in by the receiving node's own IPIP device.
  const inIface = (ipip ? remote?.links?.find((l) => l.kind === 'ipip' && l.ifname === 'tunl0')?.ifname : undefined) ?? remote?.addrs?.find((i) => i.addrs.some((x) => x.local === nextHop))?.ifname ?? 'eth0'
  const tooBig = receiveMtu(w, remote, nextHop, ipip ? IPIP_OVERHEAD : 0)
  if (tooBig) return [failLeaf([...hops, outHop], {...underHop, evidence: [...underHop.evidence, tooBig.evidence]}, 'mtu-exceeded', tooBig.message, r)]
  return visitNode(w, {...a, note: undefined, inPort: undefined, node: nextNode.name, packet: {...p, inIface, outIface: undefined}, inIface, label: `${nextNode.name} ${inIface}`, hops: [...hops, outHop, underHop], ...r, visited: [...a.visited, a.node]})
}

/** Delivered by the subnet to the node holding the address (vpc-fabric.ts), which the walk visits next. */
function fabricOnward(w: Walk, a: Arrival, p: Packet, r: Pick<Leaf, 'dnat' | 'masquerade' | 'snat'>, fabric: FabricDelivery, hops: HopDraft[], underHop: HopDraft): Leaf[] {
  const h = {...underHop, action: fabric.action, evidence: fabric.evidence}
  const remote = w.node(fabric.node.name)
  const eniAddress = remote?.addrs?.find((i) => i.ifname === fabric.inIface)?.addrs.find((x) => x.family === 'inet')?.local
  const tooBig = eniAddress ? receiveMtu(w, remote, eniAddress, 0) : undefined
  if (tooBig) return [failLeaf(hops, {...h, evidence: [...h.evidence, tooBig.evidence]}, 'mtu-exceeded', tooBig.message, r)]
  const inIface = fabric.inIface
  return visitNode(w, {...a, note: undefined, inPort: undefined, node: fabric.node.name, packet: {...p, inIface, outIface: undefined}, inIface, label: `${fabric.node.name} ${inIface}`, hops: [...hops, h], ...r, visited: [...a.visited, a.node]})
}

/** An IPIP packet's outer IPv4 header. */
export const IPIP_OVERHEAD = 20

function nodeAddressEvidence(n: NodeModel | undefined, ip: string): TraceEvidence[] {
  if (!n) return []
  const i = n.addresses.findIndex((x) => x.address === ip)
  return [{source: `Node ${n.name}`, text: `status.addresses[${i}]: ${n.addresses[i]?.type ?? ''} ${ip}`}]
}

function describeRouteDecision(r: LookupResult): string {
  return `route: ${r.trail.at(-1) ?? r.kind}`
}

export function isIpv4(ip: string): boolean {
  return parseIp(ip)?.family === 4
}

/** A masqueraded source reaches the pod as a node address; an isolating ingress policy then cannot be judged here. */
function masqueradedIngress(w: Walk, target: NonNullable<ReturnType<typeof podByIp>>, port: number | null): PolicyJudgement {
  const j = judgePolicy(w.cluster, 'Ingress', target, {ip: w.source.ip}, w.protocol, port, target)
  if (j.status === 'ok') return j
  return {status: 'unknown', message: `the source is masqueraded to a node address, and NetworkPolicy ingress of ${target.namespace}/${target.name} is not judged for it`, evidence: j.evidence}
}

/** The receiving node's own device: a frame bigger than its MTU is dropped on arrival. */
function receiveMtu(w: Walk, remote: NodeDatapath | undefined, address: string, overhead: number): {message: string; evidence: TraceEvidence} | undefined {
  if (w.size === undefined || !remote) return undefined
  const ifname = remote.addrs?.find((i) => i.addrs.some((x) => x.local === address))?.ifname
  const link = ifname ? remote.links?.find((l) => l.ifname === ifname) : undefined
  const bytes = packetBytes(w.size, w.protocol, w.family) + overhead
  if (!link?.mtu || bytes <= link.mtu) return undefined
  return {message: `a ${bytes}-byte ${overhead ? 'encapsulated ' : ''}packet does not fit the MTU ${link.mtu} of ${remote.name} ${link.ifname}, where it arrives`, evidence: linkEvidence(remote, link)}
}

/**
 * An anycast route to an address the node also holds on an interface: flannel's IPv6 VTEP address
 * fd00:10:244:N:: is the subnet-router anycast of cbr0's /64 as well, and the kernel delivers a
 * packet to it locally (IPv6 anycast routes take the local input path), as to any local address.
 */
function heldAnycast(dp: NodeDatapath, r: LookupResult, ip: string): boolean {
  return r.kind === 'anycast' && (dp.addrs ?? []).some((i) => i.addrs.some((x) => x.local === ip))
}

/**
 * The VXLAN device that decapsulates on the receiving node. Two may share a VNI and port (flannel's
 * flannel.1 and flannel-v6.1): the kernel gives the packet to the one whose socket is of the outer
 * header's family, so the device bound to the VTEP address, else one with a local address of its
 * family, else (no local address known) the first with the VNI.
 */
function receivingVxlan(remote: NodeDatapath | undefined, vtep: string, vni: number | undefined): Link | undefined {
  const candidates = remote?.links?.filter((l) => l.kind === 'vxlan' && l.vxlan?.id === vni) ?? []
  const family = parseIp(vtep)?.family
  return candidates.find((l) => l.vxlan?.local === vtep)
    ?? candidates.find((l) => l.vxlan?.local !== undefined && parseIp(l.vxlan.local)?.family === family)
    ?? candidates.find((l) => l.vxlan?.local === undefined)
    ?? candidates[0]
}
