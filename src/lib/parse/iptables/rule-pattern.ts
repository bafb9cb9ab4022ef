/**
 * One regular expression for the rule lines that make up nearly all of a kube-proxy dump: the
 * KUBE-SEP masquerade and DNAT rules, the KUBE-SVC load-balancing jumps, the KUBE-SERVICES,
 * KUBE-NODEPORTS and KUBE-EXT entries. iptables-save prints these words in one fixed order, so a
 * single anchored pattern recognises them, and the regexp engine runs as native code from about
 * the second line on; a scanner written in JavaScript runs unoptimised for a good part of a
 * 15,000-line dump, because the optimising compiler takes hundreds of milliseconds over it on a
 * busy machine. A small dump is mostly that warm-up.
 *
 * The values are read by the scanner's own readers (scan-rule.ts), so the words mean the same in
 * both, and the rules are the general reader's (tests compare them). Anything else — another
 * option, another order, a quote inside a word, an escape, a tab, two spaces, a value a reader
 * rejects — returns null and goes through scanRule and then the general reader, which also
 * reports what it cannot read.
 */
import {NO_OPTIONS} from './matches.js'
import {bareMatch, declaredJump, dnatTarget, dportMatch, plainTarget, randomMatch, sharedAddr, sharedProto} from './scan-rule.js'
import type {AddrMatch, CommentMatch, IptablesMatch, IptablesRule, IptablesTarget, PortRange, ProtoMatch} from './types.js'

/** An unquoted word that is not an option: no space, tab, quote or backslash, not starting with - or !. */
const W = String.raw`[^ \t"\\!-][^ \t"\\]*`
/** A dotted quad, as addressFamily() accepts it. */
const V4 = String.raw`[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}`

const RULE = new RegExp(
  String.raw`^(?:\[([0-9]{1,20}):([0-9]{1,20})\] )?-A (${W})` + // 1 packets, 2 bytes, 3 chain
    String.raw`(?:( !)? -s (?:(${V4}/[0-9]{1,2})|(${W})))?` + // 4 !, 5 source a.b.c.d/n, 6 other source
    String.raw`(?:( !)? -d (?:(${V4}/[0-9]{1,2})|(${W})))?` + // 7 !, 8 destination a.b.c.d/n, 9 other destination
    String.raw`(?:( !)? -p (${W}))?` + // 10 !, 11 protocol
    String.raw`(?: -m comment --comment (?:"([^"\\\t]*)"|(${W})))?` + // 12 quoted comment, 13 plain comment
    String.raw`(?: -m (tcp|udp|sctp)(?: --dport (${W}))?)?` + // 14 port module, 15 dport
    String.raw`(?: -m statistic --mode random --probability (${W}))?` + // 16 probability
    String.raw`(?: -j (${W})(?: --to-destination (?:(${V4}):([0-9]{1,5})|(${W})))?)?$`, // 17 target, 18 DNAT address, 19 its port, 20 other DNAT range
)

/**
 * Per dump: the last comment match made (a KUBE-SEP chain's two rules carry the same comment), and
 * the DNAT port ranges by port (a Service's endpoints share their target port).
 */
let lastComment: CommentMatch | null = null
const portRanges = new Map<number, PortRange>()

export function resetPatternState(): void {
  lastComment = null
  portRanges.clear()
}

/**
 * An -s/-d argument. A dotted quad with a prefix length is read here, as readAddr would (a /32 is
 * one endpoint's or Service's own address: not worth a shared-value lookup); anything else goes to
 * the scanner's reader.
 */
function addrOf(quad: string | undefined, other: string | undefined, negated: boolean): AddrMatch | null {
  if (quad === undefined) return sharedAddr(other as string, negated)
  const n = quad.length
  const last = quad.charCodeAt(n - 1) - 48
  const bits = quad.charCodeAt(n - 2) === 47 /* / */ ? last : (quad.charCodeAt(n - 2) - 48) * 10 + last
  if (bits === 32) return {cidr: quad, family: 4, negated}
  return bits < 32 ? sharedAddr(quad, negated) : null
}

/** `-j DNAT --to-destination A.B.C.D:PORT`, kube-proxy's shape, as readNatRange reads it. */
function dnatTo(addr: string, portText: string): IptablesTarget | null {
  const port = Number(portText)
  if (port > 65535) return null
  let ports = portRanges.get(port)
  if (ports === undefined) portRanges.set(port, (ports = {from: port, to: port}))
  return {kind: 'dnat', verb: 'jump', name: 'DNAT', extra: NO_OPTIONS, to: {addrFrom: addr, addrTo: addr, ports}, random: false, persistent: false}
}

/**
 * The rule, or null when the line is not in one of these shapes (then readRule reads it).
 * `chains` is the table's chains so far: a jump to one of them shares its name string.
 */
export function patternRule(raw: string, line: number, chains: ReadonlyMap<string, {name: string}>, knownChain: (name: string) => boolean): IptablesRule | null {
  const m = RULE.exec(raw)
  if (m === null) return null
  const packets = m[1]
  const counters = packets === undefined ? null : {packets: Number(packets), bytes: Number(m[2])}
  let src: AddrMatch | null = null
  let dst: AddrMatch | null = null
  let protocol: ProtoMatch | null = null
  if (m[5] !== undefined || m[6] !== undefined) {
    if ((src = addrOf(m[5], m[6], m[4] !== undefined)) === null) return null
  }
  if (m[8] !== undefined || m[9] !== undefined) {
    if ((dst = addrOf(m[8], m[9], m[7] !== undefined)) === null) return null
  }
  const p = m[11]
  if (p !== undefined) protocol = sharedProto(p, m[10] !== undefined)

  let comment: CommentMatch | null = null
  const text = m[12] ?? m[13]
  if (text !== undefined) {
    comment = lastComment !== null && lastComment.comment === text ? lastComment : (lastComment = {kind: 'comment', module: 'comment', extra: NO_OPTIONS, comment: text})
  }
  let ports: IptablesMatch | null = null
  const kind = m[14] as 'tcp' | 'udp' | 'sctp' | undefined
  if (kind !== undefined) {
    const dport = m[15]
    if ((ports = dport === undefined ? bareMatch(kind) : dportMatch(kind, dport)) === null) return null
  }
  let random: IptablesMatch | null = null
  const probability = m[16]
  if (probability !== undefined && (random = randomMatch(probability)) === null) return null

  let target: IptablesTarget | null = null
  const name = m[17]
  if (name !== undefined) {
    const addr = m[18]
    const other = m[20]
    if (addr !== undefined || other !== undefined) {
      // Only kube-proxy's DNAT shape; a user chain called DNAT, or options of other targets, are the scanner's.
      if (name !== 'DNAT' || knownChain(name)) return null
      target = addr !== undefined ? dnatTo(addr, m[19] as string) : dnatTarget(other as string)
    } else {
      // A jump to a declared chain shares the declaration's name string.
      const declared = chains.get(name)
      target = declared === undefined ? plainTarget(name, knownChain) : declaredJump(declared.name, knownChain)
    }
    if (target === null) return null
  }

  let matches: IptablesMatch[]
  if (comment !== null) matches = ports !== null ? (random !== null ? [comment, ports, random] : [comment, ports]) : random !== null ? [comment, random] : [comment]
  else matches = ports !== null ? (random !== null ? [ports, random] : [ports]) : random !== null ? [random] : []
  return {line, raw, chain: m[3] as string, counters, src, dst, protocol, inIface: null, outIface: null, fragment: null, matches, target}
}
