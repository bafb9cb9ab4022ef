/** `ip -j -d link show`: interfaces, their kind (linkinfo) and the bits of kind data checks need. */
import {problem, type ParseProblem, type ParseResult} from '../result.js'
import {entryFields, readJsonArray, type Fields} from './json.js'

export interface VxlanInfo {
  id?: number
  /** UDP destination port; the kernel default 8472 (Linux) vs 4789 (IANA) matters to flannel/cilium. */
  port?: number
  local?: string
  remote?: string
  /** Underlay device ("dev eth0"), printed by iproute2 as "link". */
  dev?: string
  learning?: boolean
  ttl?: number
}

export interface BridgeInfo {
  stp: boolean
  vlanFiltering: boolean
}

export interface BridgePortInfo {
  /** disabled | listening | learning | forwarding | blocking */
  state?: string
  priority?: number
  cost?: number
  hairpin?: boolean
  learning?: boolean
  flood?: boolean
}

export interface Link {
  ifindex: number
  ifname: string
  flags: string[]
  mtu?: number
  operstate?: string
  /** The bridge/bond this link is enslaved to. */
  master?: string
  /** Peer/parent name when it lives in the same namespace (veth peer, vlan/macvlan parent). */
  link?: string
  /** Peer/parent ifindex; in another namespace when linkNetnsid is set. */
  linkIndex?: number
  linkNetnsid?: number
  address?: string
  linkType?: string
  /** linkinfo.info_kind: veth, bridge, vxlan, ipip, dummy, vlan, bond, tun, geneve, wireguard… */
  kind?: string
  slaveKind?: string
  vxlan?: VxlanInfo
  bridge?: BridgeInfo
  bridgePort?: BridgePortInfo
  vlanId?: number
  promiscuity?: number
  minMtu?: number
  maxMtu?: number
}

export function parseLinks(text: string): ParseResult<Link[]> {
  const problems: ParseProblem[] = []
  const value: Link[] = []
  readJsonArray(text, 'ip link', problems).forEach((entry, i) => {
    const f = entryFields(entry, 'ip link', i, problems)
    if (!f) return
    const ifindex = f.num('ifindex')
    const ifname = f.str('ifname')
    if (ifindex === undefined || ifname === undefined) {
      problems.push(problem(0, `ip link[${i}]: missing ifindex or ifname`))
      return
    }
    const link: Link = {ifindex, ifname, flags: f.strArray('flags') ?? []}
    setIf(link, 'mtu', f.num('mtu'))
    setIf(link, 'operstate', f.str('operstate'))
    setIf(link, 'master', f.str('master'))
    setIf(link, 'link', f.str('link'))
    setIf(link, 'linkIndex', f.num('link_index'))
    setIf(link, 'linkNetnsid', f.num('link_netnsid'))
    setIf(link, 'address', f.str('address'))
    setIf(link, 'linkType', f.str('link_type'))
    setIf(link, 'promiscuity', f.num('promiscuity'))
    setIf(link, 'minMtu', f.num('min_mtu'))
    setIf(link, 'maxMtu', f.num('max_mtu'))
    const info = f.record('linkinfo')
    if (info) readLinkInfo(link, info)
    value.push(link)
  })
  return {value, problems}
}

function readLinkInfo(link: Link, info: Fields): void {
  setIf(link, 'kind', info.str('info_kind'))
  setIf(link, 'slaveKind', info.str('info_slave_kind'))
  const data = info.record('info_data')
  if (data && link.kind === 'vxlan') {
    const vx: VxlanInfo = {}
    setIf(vx, 'id', data.num('id'))
    setIf(vx, 'port', data.num('port'))
    // IPv6 underlays print local6/remote6 (older) or local/remote (newer).
    setIf(vx, 'local', data.str('local') ?? data.str('local6'))
    setIf(vx, 'remote', data.str('remote') ?? data.str('remote6') ?? data.str('group') ?? data.str('group6'))
    setIf(vx, 'dev', data.str('link'))
    setIf(vx, 'learning', data.bool('learning'))
    setIf(vx, 'ttl', data.num('ttl'))
    link.vxlan = vx
  }
  if (data && link.kind === 'bridge') {
    link.bridge = {stp: (data.num('stp_state') ?? 0) !== 0, vlanFiltering: data.bool('vlan_filtering') ?? false}
  }
  if (data && link.kind === 'vlan') setIf(link, 'vlanId', data.num('id'))
  const slave = info.record('info_slave_data')
  if (slave && link.slaveKind === 'bridge') {
    const port: BridgePortInfo = {}
    setIf(port, 'state', slave.str('state'))
    setIf(port, 'priority', slave.num('priority'))
    setIf(port, 'cost', slave.num('cost'))
    setIf(port, 'hairpin', slave.bool('hairpin'))
    setIf(port, 'learning', slave.bool('learning'))
    setIf(port, 'flood', slave.bool('flood'))
    link.bridgePort = port
  }
}

/** Assign only defined values, so parsed objects have no `key: undefined` noise (toEqual-friendly). */
export function setIf<T extends object, K extends keyof T>(obj: T, key: K, v: T[K] | undefined): void {
  if (v !== undefined) obj[key] = v
}
