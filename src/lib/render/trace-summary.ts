/**
 * trace's default human view, for a person in an incident: the verdict first (reason code and the
 * failing hop), what was traced, the path — a Service's endpoint branches collapsed into groups
 * that take the same way with the same outcome — and, for what did not get through, each hop with
 * the one evidence line that decided it. Everything else is one flag away (-v: trace-table.ts).
 */
import {Chalk, type ChalkInstance} from 'chalk'
import type {Hop, TraceBranch, TraceEvidence, TraceResult, Verdict} from '../trace/types.js'
import {shortSource} from './evidence-source.js'
import {wrapWords} from './text.js'
import {probeLines, type TraceTableOptions} from './trace-table.js'
import {hostPort} from '../net/cidr.js'

/** Branches that go the same way (through the same nodes) with the same outcome. */
export interface BranchGroup {
  verdict: Verdict
  code: string | null
  branches: TraceBranch[]
}

export function renderTraceSummary(r: TraceResult, options: TraceTableOptions): string {
  const c = new Chalk({level: options.color ? 1 : 0})
  const width = Math.max(40, options.width)
  const out: string[] = verdictLines(c, r, width)
  const dst = `${r.destination.name ?? r.destination.ip} (${hostPort(r.destination.ip, r.port)})`
  out.push(`${r.source.name ?? r.source.ip} (${r.source.ip}) → ${dst} ${r.protocol}`)
  if (r.branches.length === 0) {
    out.push(...wrapWords(`path: ${markedPath(r.hops)}`, width, '', '      '))
    if (r.verdict !== 'delivered') out.push('', ...hopBlock(c, r.hops, width))
  } else {
    const groups = groupBranches(r.branches)
    out.push(endpointCounts(r.branches))
    out.push('', ...servicePaths(c, r, groups, width))
    // What did not get through: the shared hops once, then each failing way (drops before unknowns).
    const failing = groups.filter((x) => x.verdict !== 'delivered').sort((a, b) => ORDER.indexOf(a.verdict) - ORDER.indexOf(b.verdict))
    if (failing.length > 0) out.push('', ...hopBlock(c, r.hops, width))
    for (const g of failing) {
      const b = g.branches[0] as TraceBranch
      const who = g.branches.length === 1 ? endpointName(b.endpoint) : `${endpointName(b.endpoint)} (and ${g.branches.length - 1} more the same way)`
      out.push(`  ⇒ to ${who}: ${verdictText(c, g.verdict)}${g.code ? ` (${g.code})` : ''}`)
      out.push(...hopBlock(c, b.hops, width))
    }
  }
  if (r.probe) out.push('', ...probeLines(c, r))
  out.push('', c.dim('every hop with all its evidence: -v'))
  return out.join('\n')
}

function verdictText(c: ChalkInstance, v: Verdict): string {
  const t = v.toUpperCase()
  return v === 'delivered' ? c.green(t) : v === 'unknown' ? c.yellow(t) : c.red(t)
}

/**
 * "verdict: DROPPED — netfilter-reject at hop 3 (cbr0 on node-1)", then the reason's message under
 * it: the first line stays short enough to read at a glance on any terminal.
 */
function verdictLines(c: ChalkInstance, r: TraceResult, width: number): string[] {
  if (!r.reason) return [`verdict: ${verdictText(c, r.verdict)}`]
  const {branch, hop} = reasonHop(r)
  const where = hop ? ` (${hopPlace(hop)}${branch ? `, to ${endpointName(branch.endpoint)}` : ''})` : ''
  // A Service's reason repeats the counts ("1 of 6 endpoints not reached; …"): the branch says it plainly.
  const message = branch?.reason?.message ?? r.reason.message
  return [
    ...wrapWords(`verdict: ${verdictText(c, r.verdict)} — ${r.reason.code}${r.reason.hop === null ? '' : ` at hop ${r.reason.hop}`}${where}`, width, '', '  '),
    ...wrapWords(message, width, '  ', '  '),
  ]
}

/** The hop the reason names; with branches, hop numbers repeat, so the branch whose reason it is. */
function reasonHop(r: TraceResult): {branch?: TraceBranch; hop?: Hop} {
  const reason = r.reason
  if (!reason || reason.hop === null) return {}
  const shared = r.hops.find((h) => h.index === reason.hop)
  if (shared) return {hop: shared}
  const branch =
    r.branches.find((b) => b.reason?.code === reason.code && b.reason.hop === reason.hop && reason.message.endsWith(b.reason.message)) ??
    r.branches.find((b) => b.reason?.code === reason.code && b.reason.hop === reason.hop)
  const hop = branch?.hops.find((h) => h.index === reason.hop)
  return {...(branch ? {branch} : {}), ...(hop ? {hop} : {})}
}

function hopPlace(h: Hop): string {
  return h.node && !h.label.startsWith(h.node) ? `${h.label} on ${h.node}` : h.label
}

/** "pod/default/web-1-1" → "web-1-1"; a bare address stays as it is. */
function endpointName(endpoint: string): string {
  return endpoint.replace(/^pod\/[^/]+\//, '')
}

function markedPath(hops: readonly Hop[]): string {
  return hops.map((h) => (h.status === 'fail' ? `✗ ${h.label}` : h.status === 'unknown' ? `? ${h.label}` : h.label)).join(' → ')
}

/** Which way a branch goes: the nodes and underlay addresses it passes, in order. */
function routeKey(b: TraceBranch): string {
  const places: string[] = []
  for (const h of b.hops) {
    const place = h.node ?? h.label
    if (places.at(-1) !== place) places.push(place)
  }
  return places.join('>')
}

/** Groups in the order of their first branch; the same route, verdict and reason code collapse. */
export function groupBranches(branches: readonly TraceBranch[]): BranchGroup[] {
  const groups = new Map<string, BranchGroup>()
  for (const b of branches) {
    const key = `${b.verdict}|${b.reason?.code ?? ''}|${routeKey(b)}`
    const g = groups.get(key)
    if (g) g.branches.push(b)
    else groups.set(key, {verdict: b.verdict, code: b.reason?.code ?? null, branches: [b]})
  }
  return [...groups.values()]
}

const ORDER: Verdict[] = ['delivered', 'dropped', 'unknown', 'partial']

/** "6 endpoints: 5 delivered, 1 dropped: nat-stale-endpoint → 10.244.2.3". */
export function endpointCounts(branches: readonly TraceBranch[]): string {
  const parts: string[] = []
  for (const v of ORDER) {
    const these = branches.filter((b) => b.verdict === v)
    if (these.length === 0) continue
    const why = v === 'delivered' ? '' : `: ${reasonsOf(these)}`
    parts.push(`${these.length} ${v}${why}`)
  }
  return `${branches.length} endpoint${branches.length === 1 ? '' : 's'}: ${parts.join(', ')}`
}

function reasonsOf(branches: readonly TraceBranch[]): string {
  const byCode = new Map<string, string[]>()
  for (const b of branches) {
    const code = b.reason?.code ?? 'no reason'
    byCode.set(code, [...(byCode.get(code) ?? []), endpointName(b.endpoint)])
  }
  return [...byCode].map(([code, eps]) => `${code} → ${eps.length > 3 ? `${eps.slice(0, 2).join(', ')} and ${eps.length - 2} more` : eps.join(', ')}`).join('; ')
}

/**
 * The shared part once, then one line per group: its endpoints and the way it takes after the
 * DNAT hop. Labels that differ inside a group (each pod's own eth0 or veth) are written generically.
 */
function servicePaths(c: ChalkInstance, r: TraceResult, groups: BranchGroup[], width: number): string[] {
  const firsts = new Set(r.branches.map((b) => b.hops[0]?.label))
  // Every branch starts at the hop where DNAT chose its endpoint; when that is one device, it is shared.
  const dnatAt = firsts.size === 1 ? [...firsts][0] : undefined
  const head = [...r.hops.map((h) => h.label), ...(dnatAt ? [dnatAt] : [])].join(' → ')
  const out = wrapWords(`path: ${head} ⇒ DNAT${r.nat.masquerade ? ' (masqueraded)' : ''} to ${r.branches.length === 1 ? 'its endpoint' : `1 of ${r.branches.length} endpoints`}:`, width, '', '      ')
  for (const g of groups) {
    const rep = g.branches[0] as TraceBranch
    const hops = rep.hops.map((h, i) => ({...h, label: commonLabel(g.branches, i, h.label)}))
    const shown = dnatAt && hops[0]?.status === 'ok' ? hops.slice(1) : hops
    const mark = g.verdict === 'delivered' ? c.green('✓') : g.verdict === 'unknown' ? c.yellow('?') : c.red('✗')
    const who = g.branches.map((b) => endpointName(b.endpoint))
    const names = who.length > 4 ? `${who.slice(0, 3).join(', ')} and ${who.length - 3} more` : who.join(', ')
    const tail = shown.length > 0 ? markedPath(shown) : '(no further hop)'
    out.push(...wrapWords(`${mark} ${names}${g.verdict === 'delivered' ? '' : ` (${g.code ?? g.verdict})`}: ${tail}`, width, '  ', '      '))
  }
  return out
}

function commonLabel(branches: readonly TraceBranch[], i: number, label: string): string {
  const labels = new Set(branches.map((b) => b.hops[i]?.label ?? label))
  if (labels.size === 1) return label
  if ([...labels].every((l) => / eth0$/.test(l))) return 'pod eth0'
  if ([...labels].every((l) => /^veth/.test(l))) return 'veth'
  return '…'
}

/** Each hop on one line, and under it the evidence line that decided it (with a short source). */
function hopBlock(c: ChalkInstance, hops: readonly Hop[], width: number): string[] {
  const out: string[] = []
  for (const h of hops) {
    const status = h.status === 'ok' ? c.green('ok  ') : h.status === 'fail' ? c.red('FAIL') : c.yellow('??  ')
    const ev = decidingEvidence(h)
    const action = conciseAction(h.action, ev)
    const head = `${String(h.index).padStart(3)} ${status} ${hopPlace(h)}${h.code ? ` [${h.code}]` : ''}${action ? `: ${action}` : ''}`
    out.push(...wrapWords(head, width, '', '           '))
    if (ev) out.push(...wrapWords(`${shortSource(ev)}: ${evidenceText(ev)}`, width, '         └ ', '           ').map((l, i) => (i === 0 ? l.replace('└ ', c.dim('└ ')) : l)))
  }
  return out
}

/**
 * A trace's iptables lines are "nat line 94: RULE (what it did)"; the short source names the table,
 * and the rule is the proof, so the view quotes the rule alone (-v keeps the line number and effect).
 */
function evidenceText(e: TraceEvidence): string {
  return e.text.replace(/^(filter|nat|mangle|raw|security) line \d+: (.*?)(?: \((?:jump|DNAT|SNAT|MASQUERADE|ACCEPT|DROP|REJECT|RETURN|mark|policy)\b[^()]*\))?$/, '$2')
}

/** The hop's sentence without empty clauses, and without the route line its evidence already quotes. */
function conciseAction(action: string, ev: TraceEvidence | undefined): string {
  const clauses = action.split('; ').filter((x) => x.trim() !== '')
  const kept = clauses.filter((x) => !(ev && x === `route: ${ev.text}`))
  return (kept.length > 0 ? kept : clauses.length > 0 ? ['routed'] : []).join('; ')
}

const matches = (re: RegExp) => (e: TraceEvidence) => re.test(e.text)
const fromSource = (re: RegExp) => (e: TraceEvidence) => re.test(e.source)
const isIptables = fromSource(/iptables/)
const isRoute = fromSource(/route/)
const isLink = fromSource(/link show|: links$/)
const isNft = fromSource(/\bnft\b/)
/** An nft rule whose effect (the evaluator's "(VERDICT…)" at the end of its line) is this verdict. */
const nftVerdict = (verdict: string) => (e: TraceEvidence) => isNft(e) && new RegExp(`\\(${verdict}\\b[^()]*(\\([^()]*\\))?\\)$`).test(e.text)

/**
 * Of a hop's evidence, the one line that decided it: the rule that rejected, the DNAT that chose a
 * stale endpoint, the route that was (or was not) there, the sysctl, the FDB entry that named the
 * VTEP. The JSON keeps all of them; this is only which one the short view quotes.
 */
export function decidingEvidence(h: Hop): TraceEvidence | undefined {
  const ev = h.evidence
  if (ev.length <= 1) return ev[0]
  const first = (...preds: ((e: TraceEvidence) => boolean)[]) => {
    for (const p of preds) {
      const found = ev.find(p)
      if (found) return found
    }
    return undefined
  }
  const last = (...preds: ((e: TraceEvidence) => boolean)[]) => {
    for (const p of preds) {
      const found = [...ev].reverse().find(p)
      if (found) return found
    }
    return undefined
  }
  const routeLine = /route: (.*)$/.exec(h.action.split('; ').find((x) => x.startsWith('route: ')) ?? '')?.[1]
  const byCode: Partial<Record<NonNullable<Hop['code']>, () => TraceEvidence | undefined>> = {
    'netfilter-reject': () => last(matches(/-j REJECT/), nftVerdict('REJECT'), isIptables),
    'netfilter-drop': () => last(matches(/-j DROP|:\S+ DROP/), nftVerdict('DROP'), isIptables),
    'forward-drop': () => first(matches(/:FORWARD DROP/)) ?? last(isIptables),
    'netpol-denied': () => first(fromSource(/NetworkPolicy/), matches(/-j (DROP|REJECT)/), nftVerdict('DROP'), nftVerdict('REJECT')),
    'nat-stale-endpoint': () => last(matches(/-j DNAT/), (e) => isNft(e) && /\bdnat\b/.test(e.text)),
    // nftables mode: kube-proxy's own rule drops a ClusterIP it has no Service for; iptables: routed on.
    'nat-missing-service': () => last(nftVerdict('DROP'), nftVerdict('REJECT'), isRoute),
    // IPv4's ip_forward, or IPv6's conf.all.forwarding.
    'ip-forward-off': () => first(matches(/ip_forward:|\/conf\/all\/forwarding:/)),
    'bridge-nf-off': () => first(matches(/bridge-nf-call-iptables/)),
    'route-missing': () => last(isRoute),
    'route-blackhole': () => last(isRoute),
    'route-nexthop-wrong': () => first(fromSource(/fdb/), fromSource(/^Node /)) ?? last(isRoute),
    'cidr-overlap': () => last(isRoute),
    'link-down': () => first((e) => isLink(e) && /DOWN/.test(e.text)),
    'veth-detached': () => first(isLink),
    'hairpin-off': () => first((e) => isLink(e) && /hairpin off/.test(e.text)),
    'mtu-exceeded': () => last((e) => isLink(e) && /mtu \d+/.test(e.text)),
  }
  const chosen = h.code ? byCode[h.code]?.() : undefined
  if (chosen) return chosen
  if (/(^|; )DNAT to /.test(h.action)) return last(matches(/-j DNAT/)) ?? ev[0]
  if (/encapsulated in VXLAN/.test(h.action)) return first(fromSource(/fdb/)) ?? ev[0]
  // A pod's veth: the FDB entry that puts the pod's MAC behind it.
  if (h.device && /is behind /.test(h.action)) return first((e) => /fdb/.test(e.source) && e.text.includes(`dev ${h.device} `)) ?? ev[0]
  if (routeLine) return ev.find((e) => e.text === routeLine) ?? ev[0]
  if (/^underlay to|^next hop/.test(h.action)) return first(fromSource(/^Node /)) ?? ev[0]
  return ev[0]
}
