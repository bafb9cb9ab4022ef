/**
 * The typed view of one node's datapath, built from a snapshot's raw results. Evidence that was not
 * gathered (unavailable, failed, timed out, or not in the snapshot) is `undefined`, never an empty
 * list: "no routes" and "could not read routes" must stay different things.
 */
import type {CniConfFile} from '../parse/cni-conf.js'
import type {CniIpamRecord, CniResultRecord} from '../parse/cni-records.js'
import type {ConntrackEntry} from '../parse/conntrack.js'
import type {InterfaceAddresses} from '../parse/iproute2/addrs.js'
import type {BridgePort, FdbEntry} from '../parse/iproute2/bridge.js'
import type {Link} from '../parse/iproute2/links.js'
import type {Neighbour} from '../parse/iproute2/neigh.js'
import type {Route} from '../parse/iproute2/routes.js'
import type {Rule} from '../parse/iproute2/rules.js'
import type {IptablesDump} from '../parse/iptables-save.js'
import type {IptablesVersion} from '../parse/iptables-version.js'
import type {IpsetDump} from '../parse/ipset.js'
import type {IpvsTable} from '../parse/ipvsadm.js'
import type {NftRuleset} from '../parse/nft.js'
import type {SysctlEntry} from '../parse/sysctl.js'
import type {CommandResult, NodeEvidence} from '../snapshot/schema.js'
import {PARSERS, type EvidenceId, type ParsedEvidence} from './node-evidence.js'
import {readNftEvidence} from './nft-evidence.js'

export interface EvidenceState {
  status: CommandResult['status'] | 'absent'
  reason?: string
  truncated: boolean
  /** Where a finding quotes it from: "node-1: ip -j route show table all". */
  source: string
}

export interface ModelProblem {
  node: string
  source: string
  line: number
  message: string
  text?: string
}

export interface NodeDatapath {
  name: string
  access: NodeEvidence['access']
  links?: Link[]
  addrs?: InterfaceAddresses[]
  routes4?: Route[]
  routes6?: Route[]
  rules4?: Rule[]
  rules6?: Rule[]
  neighbours?: Neighbour[]
  bridgePorts?: BridgePort[]
  fdb?: FdbEntry[]
  iptables4?: IptablesDump
  iptables6?: IptablesDump
  iptablesLegacy?: IptablesDump
  /** `iptables --version`: which backend iptables-save read, and how new it is. */
  iptablesVersion?: IptablesVersion
  nft?: NftRuleset
  ipvs?: IpvsTable
  /** `ipset save`: the sets kube-proxy's IPVS-mode iptables rules match (-m set). */
  ipsets?: IpsetDump
  conntrack4?: ConntrackEntry[]
  conntrack6?: ConntrackEntry[]
  sysctls?: SysctlEntry[]
  rpFilter?: SysctlEntry[]
  /** proxy_arp by interface name ("all" and "default" included); undefined when not gathered (older snapshots). */
  proxyArp?: Map<string, number>
  /** net.ipv6.conf.*.forwarding (all, default, each interface); undefined when not gathered (older snapshots). */
  ipv6Forwarding?: SysctlEntry[]
  cni?: CniConfFile[]
  /** host-local IPAM reservations (/var/lib/cni/networks). */
  cniIpam?: CniIpamRecord[]
  /** libcni's cached results (/var/lib/cni/results). */
  cniResults?: CniResultRecord[]
  /** Per catalogue id: was it gathered, and if not, why. */
  evidence: Record<string, EvidenceState>
  /** Lines the parsers could not read, with the command they came from. */
  problems: ModelProblem[]
}

export function buildNodeDatapath(node: NodeEvidence): NodeDatapath {
  const byId = new Map(node.results.map((r) => [r.id, r]))
  const problems: ModelProblem[] = []
  const evidence: Record<string, EvidenceState> = {}

  const read = <K extends EvidenceId>(id: K): ParsedEvidence<K> | undefined => {
    const result = byId.get(id)
    evidence[id] = {
      status: result?.status ?? 'absent',
      ...(result?.reason === undefined ? {} : {reason: result.reason}),
      truncated: result?.truncated ?? false,
      source: `${node.name}: ${result ? result.argv.join(' ') : id}`,
    }
    if (!result || result.status !== 'ok') return undefined
    const parsed = PARSERS[id](result.stdout) as {value: ParsedEvidence<K>; problems: {line: number; message: string; text?: string}[]}
    for (const p of parsed.problems) problems.push({node: node.name, source: id, ...p})
    return parsed.value
  }

  return {
    name: node.name,
    access: node.access,
    links: read('links'),
    addrs: read('addrs'),
    routes4: read('routes4'),
    routes6: read('routes6'),
    rules4: read('rules4'),
    rules6: read('rules6'),
    neighbours: read('neigh'),
    bridgePorts: read('bridge-links'),
    fdb: read('bridge-fdb'),
    iptables4: read('iptables-save'),
    iptables6: read('ip6tables-save'),
    iptablesLegacy: read('iptables-legacy-save'),
    iptablesVersion: read('iptables-version'),
    nft: readNftEvidence(node, byId, problems, evidence),
    ipvs: read('ipvsadm'),
    ipsets: read('ipset'),
    conntrack4: read('conntrack'),
    conntrack6: read('conntrack6'),
    sysctls: read('sysctls'),
    rpFilter: read('rp-filter'),
    proxyArp: read('proxy-arp'),
    ipv6Forwarding: read('ipv6-forwarding'),
    cni: read('cni-conf'),
    cniIpam: read('cni-ipam'),
    cniResults: read('cni-results'),
    evidence,
    problems,
  }
}
