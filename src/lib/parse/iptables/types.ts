/**
 * The structured form of an iptables-save dump. Shaped for a netfilter evaluator: numbers are
 * numbers, addresses are CIDR strings with a `negated` flag, ports are {from, to} ranges, and every
 * rule keeps its raw text and line so a finding can quote the exact evidence.
 */

export interface IptablesDump {
  tables: IptablesTable[]
}

export interface IptablesTable {
  /** "filter", "nat", "mangle", "raw", "security". */
  name: string
  line: number
  /** Chains in declaration order. */
  chains: IptablesChain[]
  /** The same chains by name, so jumps resolve in O(1). */
  chainIndex: Map<string, IptablesChain>
  /** False when the input ended (or another table began) before COMMIT. */
  committed: boolean
}

export interface IptablesChain {
  name: string
  /** ACCEPT/DROP for built-in chains; null for user chains (printed as "-"). */
  policy: string | null
  counters: Counters | null
  line: number
  rules: IptablesRule[]
}

export interface Counters {
  packets: number
  bytes: number
}

export interface AddrMatch {
  /** Always with a prefix length: a bare address becomes /32 or /128. Dotted masks are kept as printed. */
  cidr: string
  family: 4 | 6
  negated: boolean
}

export interface ProtoMatch {
  /** Lower-case name as printed ("tcp", "ipv6-icmp", "all"), or the number as text. */
  name: string
  /** IANA protocol number when known; 0 for "all". */
  number: number | null
  negated: boolean
}

export interface IfaceMatch {
  /** The name without a trailing "+". */
  name: string
  /** "eth+" matches every interface whose name starts with "eth". */
  wildcard: boolean
  negated: boolean
}

export interface PortRange {
  from: number
  to: number
}

export interface PortMatch {
  ranges: PortRange[]
  negated: boolean
}

/** One option as written: `! --name arg1 arg2`. */
export interface MatchOption {
  name: string
  args: string[]
  negated: boolean
}

export interface Negatable<T> {
  value: T
  negated: boolean
}

interface MatchBase {
  /** The module name as written after -m (or the protocol for implicit matches). */
  module: string
  /** Options this parser does not type; empty (a shared frozen array) for fully understood matches. */
  extra: readonly MatchOption[]
}

export interface CommentMatch extends MatchBase {
  kind: 'comment'
  comment: string
}
export interface MarkMatch extends MatchBase {
  kind: 'mark'
  value: number
  /** 0xffffffff when no mask was given. */
  mask: number
  negated: boolean
}
export interface StatisticRandomMatch extends MatchBase {
  kind: 'statistic'
  mode: 'random'
  probability: number
  negated: boolean
}
export interface StatisticNthMatch extends MatchBase {
  kind: 'statistic'
  mode: 'nth'
  every: number
  packet: number
  negated: boolean
}
export interface AddrtypeMatch extends MatchBase {
  kind: 'addrtype'
  srcType: Negatable<string[]> | null
  dstType: Negatable<string[]> | null
  limitIfaceIn: boolean
  limitIfaceOut: boolean
}
export interface ConntrackMatch extends MatchBase {
  kind: 'conntrack'
  ctstate: Negatable<string[]> | null
  ctstatus: Negatable<string[]> | null
}
export interface StateMatch extends MatchBase {
  kind: 'state'
  states: string[]
  negated: boolean
}
export interface RecentMatch extends MatchBase {
  kind: 'recent'
  name: string
  action: 'set' | 'rcheck' | 'update' | 'remove' | null
  negated: boolean
  seconds: number | null
  hitcount: number | null
  reap: boolean
  rttl: boolean
  /** rsource (the default) or rdest. */
  side: 'source' | 'dest'
  mask: string | null
}
export interface MultiportMatch extends MatchBase {
  kind: 'multiport'
  direction: 'dports' | 'sports' | 'ports'
  ports: PortMatch
}
export interface PortProtoMatch extends MatchBase {
  kind: 'tcp' | 'udp' | 'sctp' | 'udplite' | 'dccp'
  sport: PortMatch | null
  dport: PortMatch | null
  /** --tcp-flags MASK COMP (or --syn, stored as FIN,SYN,RST,ACK SYN). */
  tcpFlags: Negatable<{mask: string[]; comp: string[]}> | null
}
export interface IcmpMatch extends MatchBase {
  kind: 'icmp' | 'icmp6'
  /** Null for "any"; names are kept in `typeName` when not numeric. */
  type: number | null
  code: number | null
  typeName: string
  negated: boolean
}
export interface PhysdevMatch extends MatchBase {
  kind: 'physdev'
  physdevIn: IfaceMatch | null
  physdevOut: IfaceMatch | null
  isIn: Negatable<boolean> | null
  isOut: Negatable<boolean> | null
  isBridged: Negatable<boolean> | null
}
export interface SetMatch extends MatchBase {
  kind: 'set'
  setName: string
  /** Direction flags, e.g. ["src"] or ["dst", "dst"]. */
  flags: ('src' | 'dst')[]
  negated: boolean
}
export interface GenericMatch extends MatchBase {
  kind: 'generic'
}

export type IptablesMatch =
  | CommentMatch
  | MarkMatch
  | StatisticRandomMatch
  | StatisticNthMatch
  | AddrtypeMatch
  | ConntrackMatch
  | StateMatch
  | RecentMatch
  | MultiportMatch
  | PortProtoMatch
  | IcmpMatch
  | PhysdevMatch
  | SetMatch
  | GenericMatch

/** An address/port range for NAT targets; v6 addresses are without brackets. */
export interface NatRange {
  addrFrom: string | null
  addrTo: string | null
  ports: PortRange | null
}

interface TargetBase {
  /** -j jumps (and returns); -g goes to a chain without coming back. */
  verb: 'jump' | 'goto'
  /** The target name as written. */
  name: string
  /** Options this parser does not type (all of them for chains and unknown targets). */
  extra: readonly MatchOption[]
}

export interface VerdictTarget extends TargetBase {
  kind: 'accept' | 'drop' | 'return' | 'queue' | 'notrack'
}
export interface ChainTarget extends TargetBase {
  kind: 'chain'
  chain: string
}
export interface NatTarget extends TargetBase {
  kind: 'dnat' | 'snat'
  to: NatRange | null
  random: boolean
  persistent: boolean
}
export interface MasqueradeTarget extends TargetBase {
  kind: 'masquerade'
  ports: PortRange | null
  random: boolean
  randomFully: boolean
}
export interface MarkTarget extends TargetBase {
  kind: 'mark'
  /** What was written: set-xmark, set-mark, or-mark, and-mark, xor-mark. */
  op: 'set-xmark' | 'set-mark' | 'or-mark' | 'and-mark' | 'xor-mark'
  /** Normalised to set-xmark semantics: mark = (mark & ~mask) ^ value. */
  value: number
  mask: number
}
export interface RejectTarget extends TargetBase {
  kind: 'reject'
  /** Null when omitted (the kernel default is icmp-port-unreachable). */
  rejectWith: string | null
}
export interface LogTarget extends TargetBase {
  kind: 'log'
  prefix: string | null
  level: string | null
}
export interface CtTarget extends TargetBase {
  kind: 'ct'
  notrack: boolean
  zone: number | null
}
export interface TproxyTarget extends TargetBase {
  kind: 'tproxy'
  onPort: number | null
  onIp: string | null
  mark: number | null
  mask: number | null
}
export interface OtherTarget extends TargetBase {
  kind: 'other'
}

export type IptablesTarget =
  | VerdictTarget
  | ChainTarget
  | NatTarget
  | MasqueradeTarget
  | MarkTarget
  | RejectTarget
  | LogTarget
  | CtTarget
  | TproxyTarget
  | OtherTarget

export interface IptablesRule {
  /** 1-based line in the input. */
  line: number
  /** The line as printed, including any [pkts:bytes] prefix. */
  raw: string
  chain: string
  counters: Counters | null
  src: AddrMatch | null
  dst: AddrMatch | null
  protocol: ProtoMatch | null
  inIface: IfaceMatch | null
  outIface: IfaceMatch | null
  /** -f: only second and later fragments. */
  fragment: {negated: boolean} | null
  matches: IptablesMatch[]
  /** Null for a rule without -j/-g (it only counts, or only updates a "recent" list). */
  target: IptablesTarget | null
  /**
   * Set when the line could not be read (also reported as a parse problem): the rule is kept in its
   * chain so an evaluation reaching it ends as unknown, naming the line, instead of skipping it.
   */
  unreadable?: string
}
