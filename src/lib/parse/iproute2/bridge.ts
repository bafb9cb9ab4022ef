/** `bridge -j link show` (bridge ports) and `bridge -j fdb show` (forwarding database). */
import {parseIp} from '../../net/cidr.js'
import {problem, type ParseProblem, type ParseResult} from '../result.js'
import {entryFields, readJsonArray, safeStringify} from './json.js'
import {setIf} from './links.js'

export interface BridgePort {
  ifindex?: number
  ifname: string
  master?: string
  /** disabled | listening | learning | forwarding | blocking */
  state?: string
  priority?: number
  cost?: number
  flags: string[]
  mtu?: number
}

export function parseBridgeLinks(text: string): ParseResult<BridgePort[]> {
  const problems: ParseProblem[] = []
  const value: BridgePort[] = []
  readJsonArray(text, 'bridge link', problems).forEach((entry, i) => {
    const f = entryFields(entry, 'bridge link', i, problems)
    if (!f) return
    const ifname = f.str('ifname')
    if (ifname === undefined) {
      problems.push(problem(0, `bridge link[${i}]: missing ifname`, safeStringify(entry)))
      return
    }
    const port: BridgePort = {ifname, flags: f.strArray('flags') ?? []}
    setIf(port, 'ifindex', f.num('ifindex'))
    // Not "link": for a veth port, bridge(8) resolves the peer's ifindex in its own namespace and
    // prints whatever local interface has that index (captured: "link":"eth0" for a pod veth).
    setIf(port, 'master', f.str('master'))
    setIf(port, 'state', f.str('state'))
    setIf(port, 'priority', f.num('priority'))
    setIf(port, 'cost', f.num('cost'))
    setIf(port, 'mtu', f.num('mtu'))
    value.push(port)
  })
  return {value, problems}
}

export interface FdbEntry {
  mac: string
  /** The port (or vxlan device) the entry lives on. */
  ifname: string
  master?: string
  /** Remote VTEP for vxlan entries. */
  dst?: string
  vlan?: number
  /** permanent | static | "" (dynamic) … */
  state: string
  /** self, master, extern_learn, offload, sticky, router… */
  flags: string[]
  vni?: number
  /** Destination UDP port of a vxlan entry when not the device default. */
  port?: number
  via?: string
}

export function parseFdb(text: string): ParseResult<FdbEntry[]> {
  const problems: ParseProblem[] = []
  const value: FdbEntry[] = []
  readJsonArray(text, 'bridge fdb', problems).forEach((entry, i) => {
    const f = entryFields(entry, 'bridge fdb', i, problems)
    if (!f) return
    const mac = f.str('mac')
    const ifname = f.str('ifname') ?? f.str('dev')
    if (mac === undefined || ifname === undefined) {
      problems.push(problem(0, `bridge fdb[${i}]: missing mac or ifname`, safeStringify(entry)))
      return
    }
    const e: FdbEntry = {mac: mac.toLowerCase(), ifname, state: f.str('state') ?? '', flags: f.strArray('flags') ?? []}
    setIf(e, 'master', f.str('master'))
    const dst = f.str('dst')
    if (dst !== undefined) e.dst = parseIp(dst)?.text ?? dst
    setIf(e, 'vlan', f.num('vlan'))
    setIf(e, 'vni', f.num('vni') ?? f.num('src_vni'))
    setIf(e, 'port', f.num('port') ?? f.num('dst_port'))
    setIf(e, 'via', f.str('via'))
    value.push(e)
  })
  return {value, problems}
}
