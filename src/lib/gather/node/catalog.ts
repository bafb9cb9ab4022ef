/**
 * The read-only node command catalogue: the only commands knet ever runs on a node, all defined
 * here. Transports refuse anything that is not an entry of this list (see transport.ts).
 *
 * Why these exact forms:
 * - iproute2 with -j gives JSON whose shape is stable across versions; -d adds link kinds and
 *   vxlan/bridge details.
 * - sysctls are read with grep -H so that one process reads many files and each value comes back
 *   with its path; a file that does not exist (bridge-nf-call-* without br_netfilter) is simply
 *   absent from stdout, which is how "unavailable" is told apart from "0".
 * - The CNI folder is read with grep -rHn so that names and contents come back in one command and
 *   can be reassembled line by line without a shell.
 */

export const DEFAULT_TIMEOUT_MS = 10_000
const MiB = 1024 * 1024

export interface CatalogCommand {
  /** Stable id: snapshot records and parsers refer to commands by it. */
  readonly id: string
  readonly argv: readonly string[]
  readonly description: string
  readonly timeoutMs: number
  /** Output beyond this many bytes of stdout is cut and the result marked truncated. */
  readonly maxBytes: number
  /**
   * stderr that means "this node does not have it" (module not loaded, folder absent) rather
   * than a failure; a missing binary is always "unavailable".
   */
  readonly unavailableWhen?: RegExp
  /**
   * Exit codes that still mean success. grep exits 2 when one of several files is missing
   * but still prints the others.
   */
  readonly okExitCodes?: readonly number[]
}

function cmd(
  id: string,
  argv: string[],
  description: string,
  extra: Partial<Pick<CatalogCommand, 'timeoutMs' | 'maxBytes' | 'unavailableWhen' | 'okExitCodes'>> = {},
): CatalogCommand {
  return Object.freeze({
    id,
    argv: Object.freeze([...argv]),
    description,
    timeoutMs: extra.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBytes: extra.maxBytes ?? 16 * MiB,
    unavailableWhen: extra.unavailableWhen,
    okExitCodes: extra.okExitCodes,
  })
}

export const SYSCTL_FILES = [
  '/proc/sys/net/ipv4/ip_forward',
  '/proc/sys/net/ipv6/conf/all/forwarding',
  '/proc/sys/net/bridge/bridge-nf-call-iptables',
  '/proc/sys/net/bridge/bridge-nf-call-ip6tables',
] as const

export const CNI_CONF_DIR = '/etc/cni/net.d'
/** What CNI plugins record per pod: host-local IPAM reservations and libcni's cached results. */
export const CNI_IPAM_DIR = '/var/lib/cni/networks'
export const CNI_RESULTS_DIR = '/var/lib/cni/results'

const NO_TABLES = /(can't initialize|Table does not exist|Permission denied \(you must be root\)|Could not fetch rule set)/i
const NFT_UNAVAILABLE = /(Operation not supported|Protocol not supported|cache initialization failed)/i

export const CATALOG: readonly CatalogCommand[] = Object.freeze([
  cmd('links', ['ip', '-j', '-d', 'link', 'show'], 'interfaces with kinds, masters, MTU, veth peers, vxlan details'),
  cmd('addrs', ['ip', '-j', 'addr', 'show'], 'interface addresses'),
  cmd('routes4', ['ip', '-j', 'route', 'show', 'table', 'all'], 'IPv4 routes of every table'),
  cmd('routes6', ['ip', '-6', '-j', 'route', 'show', 'table', 'all'], 'IPv6 routes of every table'),
  cmd('rules4', ['ip', '-j', 'rule', 'show'], 'IPv4 policy routing rules'),
  cmd('rules6', ['ip', '-6', '-j', 'rule', 'show'], 'IPv6 policy routing rules'),
  cmd('neigh', ['ip', '-j', 'neigh', 'show'], 'neighbour (ARP/NDP) entries'),
  cmd('bridge-links', ['bridge', '-j', 'link', 'show'], 'bridge ports and their state'),
  cmd('bridge-fdb', ['bridge', '-j', 'fdb', 'show'], 'bridge and VXLAN forwarding database'),
  cmd('iptables-save', ['iptables-save'], 'IPv4 netfilter rules (the default iptables backend)', {
    maxBytes: 256 * MiB,
    timeoutMs: 60_000,
    unavailableWhen: NO_TABLES,
  }),
  cmd('ip6tables-save', ['ip6tables-save'], 'IPv6 netfilter rules', {maxBytes: 256 * MiB, timeoutMs: 60_000, unavailableWhen: NO_TABLES}),
  cmd('iptables-legacy-save', ['iptables-legacy-save'], 'rules in the legacy backend, to spot rules split across backends', {
    maxBytes: 256 * MiB,
    timeoutMs: 60_000,
    unavailableWhen: NO_TABLES,
  }),
  // Which binary reads the kernel's rules right: its version and backend name the fix when
  // iptables-save prints rules garbled (a newer iptables wrote them).
  cmd('iptables-version', ['iptables', '--version'], "the node's iptables version and backend (nf_tables or legacy)"),
  // Chains only, not `nft -j list ruleset`: that repeats every iptables-nft rule as JSON (45-70 MB
  // for a 10,000-Service node whose iptables-save is 16 MB). The chains name every table and give
  // each base chain's hook and priority (iptables-nft's too); each table iptables-nft does not own
  // is then listed on its own (nftTableCommand, gather-node.ts). Not `nft list tables`: nft 1.0.6
  // fetches every rule for it (60-95 s on that node, against 2 s for the chains).
  cmd('nft-chains', ['nft', '-j', 'list', 'chains'], 'nftables chains of every table: the tables to list, and base chains with their hooks and priorities', {
    maxBytes: 256 * MiB,
    timeoutMs: 60_000,
    unavailableWhen: NFT_UNAVAILABLE,
  }),
  cmd('ipvsadm', ['ipvsadm', '-S', '-n'], 'IPVS virtual services (kube-proxy IPVS mode)', {
    unavailableWhen: /(Can't initialize ipvs|Protocol not available|Memory allocation problem)/i,
  }),
  // kube-proxy's IPVS mode keeps its Service addresses in ipsets that its iptables rules match
  // (-m set --match-set KUBE-CLUSTER-IP dst,dst): the save format is one line per member.
  cmd('ipset', ['ipset', 'save'], 'ipsets and their members (kube-proxy IPVS mode matches them from iptables)', {
    maxBytes: 64 * MiB,
    timeoutMs: 30_000,
    unavailableWhen: /(Cannot open session to kernel|Kernel error received: (Operation not permitted|Protocol not supported)|Protocol not supported)/i,
  }),
  // Bounded: a busy node holds hundreds of thousands of flows; the cap keeps the snapshot sane and
  // the result says it was truncated.
  cmd('conntrack', ['conntrack', '-L'], 'IPv4 connection tracking table (bounded)', {
    maxBytes: 32 * MiB,
    timeoutMs: 20_000,
    unavailableWhen: /(Protocol not supported|can't open handler|Operation not supported)/i,
  }),
  cmd('conntrack6', ['conntrack', '-L', '-f', 'ipv6'], 'IPv6 connection tracking table (bounded)', {
    maxBytes: 32 * MiB,
    timeoutMs: 20_000,
    unavailableWhen: /(Protocol not supported|can't open handler|Operation not supported)/i,
  }),
  cmd('sysctls', ['grep', '-H', '.', ...SYSCTL_FILES], 'forwarding and bridge-netfilter sysctls (read from /proc/sys)', {
    okExitCodes: [0, 2],
  }),
  cmd('rp-filter', ['grep', '-r', '-H', '--include=rp_filter', '.', '/proc/sys/net/ipv4/conf'], 'rp_filter for all, default and each interface', {
    okExitCodes: [0, 2],
  }),
  // Routed pod veths (Calico's 169.254.1.1 gateway) only work with proxy ARP on the host side.
  cmd('proxy-arp', ['grep', '-r', '-H', '--include=proxy_arp', '.', '/proc/sys/net/ipv4/conf'], 'proxy_arp for all, default and each interface', {
    okExitCodes: [0, 2],
  }),
  // IPv6 has its forwarding switch per interface too (conf.all is what ip6_forward reads; an
  // interface's own says whether it acts as a router there). Exit 2 without /proc/sys/net/ipv6: no IPv6.
  cmd('ipv6-forwarding', ['grep', '-r', '-H', '--include=forwarding', '.', '/proc/sys/net/ipv6/conf'], 'IPv6 forwarding for all, default and each interface', {
    okExitCodes: [0, 1],
    unavailableWhen: /No such file or directory/,
  }),
  cmd('cni-conf', ['grep', '-r', '-H', '-n', '-e', '', CNI_CONF_DIR], 'CNI configuration files (names and contents)', {
    maxBytes: 4 * MiB,
    // grep exits 1 when the folder is empty: no configs is a fact, not a failure.
    okExitCodes: [0, 1],
    unavailableWhen: /No such file or directory/,
  }),
  // Which pod is behind which veth, as the CNI recorded it (routed CNIs name veths by hash).
  cmd('cni-ipam', ['grep', '-r', '-H', '.', CNI_IPAM_DIR], 'host-local IPAM reservations: each pod IP with its container id and interface', {
    maxBytes: 4 * MiB,
    okExitCodes: [0, 1],
    unavailableWhen: /No such file or directory/,
  }),
  cmd('cni-results', ['grep', '-r', '-H', '.', CNI_RESULTS_DIR], "libcni's cached ADD results: each pod's host-side interface and addresses", {
    maxBytes: 16 * MiB,
    okExitCodes: [0, 1],
    unavailableWhen: /No such file or directory/,
  }),
])

const BY_ID = new Map(CATALOG.map((c) => [c.id, c]))

export function catalogCommand(id: string): CatalogCommand | undefined {
  return BY_ID.get(id)
}

const NFT_FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev'])
/** nft's identifiers, without anything a shell or nft's own parser would read as more than a name. */
const NFT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/

/** `nft -j list table FAMILY NAME`, for one table a node's `nft -j list tables` listed; undefined for a name that is not an nft identifier. */
export function nftTableCommand(family: string, name: string): CatalogCommand | undefined {
  if (!NFT_FAMILIES.has(family) || !NFT_NAME.test(name)) return undefined
  return cmd(nftTableResultId(family, name), ['nft', '-j', 'list', 'table', family, name], `nftables table ${family} ${name}`, {
    maxBytes: 256 * MiB,
    timeoutMs: 60_000,
    unavailableWhen: NFT_UNAVAILABLE,
  })
}

/** The snapshot id of one table's listing: "nft-table:ip:kube-proxy". */
export function nftTableResultId(family: string, name: string): string {
  return `nft-table:${family}:${name}`
}

function isNftTableArgv(argv: readonly string[]): boolean {
  return argv.length === 6 && argv[0] === 'nft' && argv[1] === '-j' && argv[2] === 'list' && argv[3] === 'table' &&
    nftTableCommand(argv[4] as string, argv[5] as string) !== undefined
}

/** True when argv is exactly a catalogue entry (or one table's listing): transports use this as their allow-list. */
export function isCatalogArgv(argv: readonly string[]): boolean {
  return CATALOG.some((c) => c.argv.length === argv.length && c.argv.every((a, i) => a === argv[i])) || isNftTableArgv(argv)
}
