/** `ip -j addr show`: the addresses configured on each interface. */
import {normaliseCidr, parseIp} from '../../net/cidr.js'
import {problem, type ParseProblem, type ParseResult} from '../result.js'
import {entryFields, readJsonArray} from './json.js'
import {setIf} from './links.js'

export interface InterfaceAddress {
  family: 'inet' | 'inet6'
  /** The address itself, canonical ("10.244.1.1", "fe80::1"). */
  local: string
  prefixlen: number
  /** The connected prefix it implies, normalised ("10.244.1.0/24"). */
  cidr: string
  scope?: string
  broadcast?: string
  label?: string
  /** Point-to-point peer ("peer" in ip addr), used by calico-style /32 setups. */
  address?: string
}

export interface InterfaceAddresses {
  ifindex: number
  ifname: string
  flags: string[]
  operstate?: string
  mtu?: number
  addrs: InterfaceAddress[]
}

export function parseAddrs(text: string): ParseResult<InterfaceAddresses[]> {
  const problems: ParseProblem[] = []
  const value: InterfaceAddresses[] = []
  readJsonArray(text, 'ip addr', problems).forEach((entry, i) => {
    const f = entryFields(entry, 'ip addr', i, problems)
    if (!f) return
    const ifindex = f.num('ifindex')
    const ifname = f.str('ifname')
    // `ip addr show` prints bare {"addr_info":[{}]} fragments for interfaces that vanish mid-dump.
    if (ifindex === undefined || ifname === undefined) {
      problems.push(problem(0, `ip addr[${i}]: missing ifindex or ifname`))
      return
    }
    const iface: InterfaceAddresses = {ifindex, ifname, flags: f.strArray('flags') ?? [], addrs: []}
    setIf(iface, 'operstate', f.str('operstate'))
    setIf(iface, 'mtu', f.num('mtu'))
    ;(f.array('addr_info') ?? []).forEach((a, j) => {
      const af = entryFields(a, `ip addr[${i}].addr_info`, j, problems)
      if (!af) return
      const family = af.str('family')
      const local = af.str('local')
      const prefixlen = af.num('prefixlen')
      const ip = local === undefined ? undefined : parseIp(local)
      if ((family !== 'inet' && family !== 'inet6') || !ip || prefixlen === undefined) {
        problems.push(problem(0, `ip addr[${i}].addr_info[${j}] (${ifname}): unreadable address`, JSON.stringify(a)))
        return
      }
      const cidr = normaliseCidr(`${ip.text}/${prefixlen}`)
      if (!cidr || (family === 'inet') !== (ip.family === 4)) {
        problems.push(problem(0, `ip addr[${i}].addr_info[${j}] (${ifname}): bad prefix length or family`, JSON.stringify(a)))
        return
      }
      const addr: InterfaceAddress = {family, local: ip.text, prefixlen, cidr}
      setIf(addr, 'scope', af.str('scope'))
      setIf(addr, 'broadcast', af.str('broadcast'))
      setIf(addr, 'label', af.str('label'))
      setIf(addr, 'address', af.str('address'))
      iface.addrs.push(addr)
    })
    value.push(iface)
  })
  return {value, problems}
}
