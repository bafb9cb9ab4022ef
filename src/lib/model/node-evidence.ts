/**
 * The catalogue's parsers by command id. The model reads raw results through this table, so a
 * snapshot taken by an older knet replays through today's parsers.
 */
import {parseCniConfDir} from '../parse/cni-conf.js'
import {parseCniIpam, parseCniResults} from '../parse/cni-records.js'
import {parseConntrack} from '../parse/conntrack.js'
import {parseAddrs} from '../parse/iproute2/addrs.js'
import {parseBridgeLinks, parseFdb} from '../parse/iproute2/bridge.js'
import {parseLinks} from '../parse/iproute2/links.js'
import {parseNeighbours} from '../parse/iproute2/neigh.js'
import {parseRoutes} from '../parse/iproute2/routes.js'
import {parseRules} from '../parse/iproute2/rules.js'
import {parseIptablesSave} from '../parse/iptables-save.js'
import {parseIptablesVersion} from '../parse/iptables-version.js'
import {parseIpsetSave} from '../parse/ipset.js'
import {parseIpvsadmSave} from '../parse/ipvsadm.js'
import {parseNftJson} from '../parse/nft.js'
import type {ParseResult} from '../parse/result.js'
import {parseProxyArp, parseSysctls} from '../parse/sysctl.js'

export const PARSERS = {
  links: parseLinks,
  addrs: parseAddrs,
  routes4: (t: string) => parseRoutes(t, 4),
  routes6: (t: string) => parseRoutes(t, 6),
  rules4: (t: string) => parseRules(t, 4),
  rules6: (t: string) => parseRules(t, 6),
  neigh: parseNeighbours,
  'bridge-links': parseBridgeLinks,
  'bridge-fdb': parseFdb,
  'iptables-save': parseIptablesSave,
  'ip6tables-save': parseIptablesSave,
  'iptables-legacy-save': parseIptablesSave,
  'iptables-version': parseIptablesVersion,
  nft: parseNftJson,
  ipvsadm: parseIpvsadmSave,
  ipset: parseIpsetSave,
  conntrack: parseConntrack,
  conntrack6: parseConntrack,
  sysctls: parseSysctls,
  'rp-filter': parseSysctls,
  'proxy-arp': parseProxyArp,
  'ipv6-forwarding': parseSysctls,
  'cni-conf': parseCniConfDir,
  'cni-ipam': parseCniIpam,
  'cni-results': parseCniResults,
} satisfies Record<string, (text: string) => ParseResult<unknown>>

export type EvidenceId = keyof typeof PARSERS
export type ParsedEvidence<K extends EvidenceId> = ReturnType<(typeof PARSERS)[K]>['value']
