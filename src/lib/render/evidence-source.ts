/**
 * Evidence as a person reads it: the proving line with a short source ("node-2 sysctl",
 * "node-1 iptables nat", "api EndpointSlice default/web"), never the argv that gathered it. The
 * snapshot and the JSON keep the full source; this is only how the human views name it.
 */

export interface ShortEvidence {
  /** The node the line came from, or null for the API and other cluster-wide sources. */
  node: string | null
  /** What kind of evidence, without the node: "sysctl", "iptables nat", "api Pod default/web-1". */
  kind: string
  text: string
}

/** Catalogue commands (by argv, or by id when a snapshot lacked the argv) → a short name. */
const COMMANDS: [RegExp, string][] = [
  [/^ip (?:-\S+ )*link\b|^links$/, 'ip link'],
  [/^ip (?:-\S+ )*addr\b|^addrs$/, 'ip addr'],
  [/^ip (?:-\S+ )*rule\b.*\/ .*route\b/, 'ip route'],
  [/^ip (?:-\S+ )*route\b|^routes[46]$/, 'ip route'],
  [/^ip (?:-\S+ )*rule\b|^rules[46]$/, 'ip rule'],
  [/^ip (?:-\S+ )*neigh\b|^neigh$/, 'ip neigh'],
  [/^bridge (?:-\S+ )*fdb\b|^bridge-fdb$/, 'bridge fdb'],
  [/^bridge (?:-\S+ )*link\b|^bridge-links$/, 'bridge link'],
  [/^iptables-legacy-save\b/, 'iptables-legacy'],
  [/^ip6tables-save\b/, 'ip6tables'],
  [/^iptables-save\b/, 'iptables'],
  [/^nft\b/, 'nft'],
  [/^ipvsadm\b/, 'ipvs'],
  [/^ipset\b/, 'ipset'],
  [/^conntrack\b/, 'conntrack'],
  [/^grep .*\/proc\/sys\b|^sysctls$|^rp-filter$/, 'sysctl'],
  [/^grep .*\/etc\/cni\b|^cni-conf$/, 'cni config'],
]

/** API objects as trace names them ("Pod default/web-1", "Node node-2"). */
const API_KINDS = /^(Pod|Node|Service|EndpointSlices?|NetworkPolicy|ConfigMap|Namespace|DaemonSet)s? /

export function shortEvidence(e: {source: string; text: string}): ShortEvidence {
  const api = /^api: (.*)$/.exec(e.source)
  if (api) return {node: null, kind: `api ${apiKind(api[1] as string)}`, text: e.text}
  if (API_KINDS.test(e.source)) return {node: null, kind: `api ${apiKind(e.source)}`, text: e.text}
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*): (.*)$/.exec(e.source)
  if (!m) return {node: null, kind: e.source, text: e.text}
  const node = m[1] as string
  const command = m[2] as string
  const name = COMMANDS.find(([re]) => re.test(command))?.[1] ?? command.split(' ')[0] ?? command
  if (name === 'iptables' || name === 'ip6tables' || name === 'iptables-legacy') {
    // trace quotes "nat line 94: -A …"; checks quote the rule alone and the table is read off it.
    const line = /^(filter|nat|mangle|raw|security) line \d+: (.*)$/.exec(e.text)
    if (line) return {node, kind: `${name} ${line[1]}`, text: line[2] as string}
    const table = iptablesTable(e.text)
    return {node, kind: table ? `${name} ${table}` : name, text: e.text}
  }
  return {node, kind: name, text: e.text}
}

/** "node-1 iptables nat", "api EndpointSlice default/web". */
export function shortSource(e: {source: string; text: string}): string {
  const s = shortEvidence(e)
  return s.node ? `${s.node} ${s.kind}` : s.kind
}

function apiKind(rest: string): string {
  // "EndpointSlices of Service default/web" → "EndpointSlice default/web".
  return rest.replace(/^EndpointSlices of Service /, 'EndpointSlice ').replace(/^EndpointSlices in /, 'EndpointSlices in ')
}

const NAT_CHAINS = /^(PREROUTING|POSTROUTING|KUBE-SEP-|KUBE-SVC-|KUBE-SVL-|KUBE-EXT-|KUBE-FW-|KUBE-NODEPORTS|KUBE-POSTROUTING|KUBE-MARK-)/
const FILTER_CHAINS = /^(FORWARD|INPUT|KUBE-FORWARD|KUBE-FIREWALL|KUBE-PROXY-FIREWALL|KUBE-EXTERNAL-SERVICES|KUBE-NODE-PORT)/

/** The table a rule line belongs to, when its chain or target says so unambiguously. */
function iptablesTable(text: string): string | undefined {
  const table = /\*(nat|filter|mangle|raw)\b/.exec(text)
  if (table) return table[1]
  const chain = /^(?:-A |:)(\S+)/.exec(text)?.[1]
  if (/-j (DNAT|SNAT|MASQUERADE|KUBE-SVC-|KUBE-SEP-|KUBE-MARK-MASQ)/.test(text)) return 'nat'
  if (chain && NAT_CHAINS.test(chain)) return 'nat'
  if (chain && FILTER_CHAINS.test(chain)) return 'filter'
  if (/-j (REJECT|DROP)\b/.test(text)) return 'filter'
  return undefined
}

/** "node-1, node-2, node-3"; past `max` names: "node-1, node-2 and 48 more". */
export function nameList(names: readonly string[], max = 4): string {
  if (names.length <= max) return names.join(', ')
  return `${names.slice(0, max - 1).join(', ')} and ${names.length - (max - 1)} more`
}
