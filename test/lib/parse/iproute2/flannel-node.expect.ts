/**
 * What parsing the flannel-node scenario (test/fixtures/iproute2/build.ts) must produce. Shared by
 * the fixture tests (non-root) and the live test that rebuilds the state, so both prove the same
 * thing. Only state the builder created is asserted; kernel-generated extras (link-local
 * addresses, multicast FDB entries) are timing-dependent.
 */
import {expect} from 'vitest'
import type {Captures} from '../../../fixtures/iproute2/build.js'
import {parseAddrs} from '../../../../src/lib/parse/iproute2/addrs.js'
import {parseBridgeLinks, parseFdb} from '../../../../src/lib/parse/iproute2/bridge.js'
import {parseLinks} from '../../../../src/lib/parse/iproute2/links.js'
import {parseNeighbours} from '../../../../src/lib/parse/iproute2/neigh.js'
import {parseRoutes, type Route} from '../../../../src/lib/parse/iproute2/routes.js'
import {parseRules} from '../../../../src/lib/parse/iproute2/rules.js'
import {parseSysctls, rpFilterByInterface, sysctlValue} from '../../../../src/lib/parse/sysctl.js'

export function stdout(c: Captures, key: string): string {
  const v = c[key]
  if (!v) throw new Error(`capture has no ${key}`)
  return v.stdout
}

const UP = ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP']
const DOWN = ['BROADCAST', 'MULTICAST']

export function expectNodeLinks(c: Captures): void {
  const {value, problems} = parseLinks(stdout(c, 'links'))
  expect(problems).toEqual([])
  const by = (n: string) => value.find((l) => l.ifname === n)
  expect(value.map((l) => l.ifname)).toEqual(['lo', 'eth0', 'cbr0', 'veth-pod1', 'flannel.1', 'macv0', 'tap0', 'br-stp'])
  const common = {promiscuity: 0, minMtu: 68, maxMtu: 65535, linkType: 'ether'}
  expect(by('eth0')).toEqual({...common, ifindex: 2, ifname: 'eth0', flags: UP, mtu: 1500, operstate: 'UP', linkIndex: 2, linkNetnsid: 0, address: '02:00:0a:64:00:02', kind: 'veth'})
  expect(by('cbr0')).toEqual({...common, ifindex: 3, ifname: 'cbr0', flags: UP, mtu: 1450, operstate: 'UP', address: '02:00:0a:f4:01:01', kind: 'bridge', bridge: {stp: false, vlanFiltering: false}})
  expect(by('veth-pod1')).toEqual({
    ...common,
    promiscuity: 1,
    ifindex: 4,
    ifname: 'veth-pod1',
    flags: UP,
    mtu: 1450,
    operstate: 'UP',
    master: 'cbr0',
    linkIndex: 2,
    linkNetnsid: 1,
    address: '02:00:0a:f4:01:ff',
    kind: 'veth',
    slaveKind: 'bridge',
    bridgePort: {state: 'forwarding', priority: 32, cost: 2, hairpin: false, learning: true, flood: true},
  })
  expect(by('flannel.1')).toEqual({
    ...common,
    ifindex: 5,
    ifname: 'flannel.1',
    flags: UP,
    mtu: 1450,
    operstate: 'UNKNOWN',
    address: '0a:00:00:00:01:00',
    kind: 'vxlan',
    vxlan: {id: 1, port: 8472, local: '10.100.0.2', dev: 'eth0', learning: false, ttl: 0},
  })
  expect(by('macv0')).toEqual({...common, ifindex: 6, ifname: 'macv0', flags: DOWN, mtu: 1500, operstate: 'DOWN', link: 'eth0', address: '02:00:0a:64:00:99', kind: 'macvlan'})
  expect(by('tap0')).toEqual({...common, maxMtu: 65521, ifindex: 7, ifname: 'tap0', flags: DOWN, mtu: 1500, operstate: 'DOWN', address: '02:00:00:00:00:ab', kind: 'tun'})
  expect(by('br-stp')).toEqual({...common, ifindex: 8, ifname: 'br-stp', flags: DOWN, mtu: 1500, operstate: 'DOWN', address: '02:00:00:00:00:b1', kind: 'bridge', bridge: {stp: true, vlanFiltering: false}})
}

export function expectPodLinks(c: Captures): void {
  const {value, problems} = parseLinks(stdout(c, 'links'))
  expect(problems).toEqual([])
  // The pod's eth0 points back at the node's veth-pod1 (ifindex 4) in another namespace.
  expect(value.find((l) => l.ifname === 'eth0')).toEqual({
    ifindex: 2,
    ifname: 'eth0',
    flags: UP,
    mtu: 1450,
    operstate: 'UP',
    linkIndex: 4,
    linkNetnsid: 0,
    address: '02:00:0a:f4:01:02',
    linkType: 'ether',
    kind: 'veth',
    promiscuity: 0,
    minMtu: 68,
    maxMtu: 65535,
  })
}

export function expectNodeAddrs(c: Captures): void {
  const {value, problems} = parseAddrs(stdout(c, 'addrs'))
  expect(problems).toEqual([])
  const global = (n: string) => value.find((i) => i.ifname === n)?.addrs.filter((a) => a.scope !== 'link')
  expect(global('eth0')).toEqual([
    {family: 'inet', local: '10.100.0.2', prefixlen: 24, cidr: '10.100.0.0/24', scope: 'global', label: 'eth0'},
    {family: 'inet6', local: 'fd00:100::2', prefixlen: 64, cidr: 'fd00:100::/64', scope: 'global'},
  ])
  expect(global('cbr0')).toEqual([
    {family: 'inet', local: '10.244.1.1', prefixlen: 24, cidr: '10.244.1.0/24', scope: 'global', label: 'cbr0'},
    {family: 'inet6', local: 'fd00:244:1::1', prefixlen: 64, cidr: 'fd00:244:1::/64', scope: 'global'},
  ])
  expect(global('flannel.1')).toEqual([{family: 'inet', local: '10.244.1.0', prefixlen: 32, cidr: '10.244.1.0/32', scope: 'global', label: 'flannel.1'}])
  expect(value.find((i) => i.ifname === 'lo')?.addrs).toEqual([
    {family: 'inet', local: '127.0.0.1', prefixlen: 8, cidr: '127.0.0.0/8', scope: 'host', label: 'lo'},
    {family: 'inet6', local: '::1', prefixlen: 128, cidr: '::1/128', scope: 'host'},
  ])
  expect(value.find((i) => i.ifname === 'tap0')).toEqual({ifindex: 7, ifname: 'tap0', flags: DOWN, operstate: 'DOWN', mtu: 1500, addrs: []})
}

/** Routes without the index field, which depends on kernel dump order. */
function strip(routes: Route[]): Omit<Route, 'index'>[] {
  return routes.map(({index: _index, ...r}) => r)
}

export function expectNodeRoutes4(c: Captures): void {
  const {value, problems} = parseRoutes(stdout(c, 'routes4'), 4)
  expect(problems).toEqual([])
  const routes = strip(value)
  const v4 = {family: 4 as const, type: 'unicast' as const, flags: [], metric: 0, table: 'main'}
  for (const r of [
    {...v4, dst: '0.0.0.0/0', prefixLength: 0, gateway: '10.100.0.1', dev: 'eth0'},
    {...v4, dst: '0.0.0.0/0', prefixLength: 0, gateway: '10.100.0.10', dev: 'eth0', table: '2'},
    {...v4, dst: '10.244.2.0/24', prefixLength: 24, gateway: '10.244.2.0', dev: 'flannel.1', flags: ['onlink']},
    {...v4, dst: '10.244.3.0/24', prefixLength: 24, gateway: '10.244.3.0', dev: 'flannel.1', flags: ['onlink']},
    {...v4, type: 'blackhole' as const, dst: '10.244.99.0/24', prefixLength: 24},
    {...v4, type: 'unreachable' as const, dst: '10.99.0.0/16', prefixLength: 16},
    {...v4, type: 'prohibit' as const, dst: '10.98.0.0/16', prefixLength: 16, table: '100'},
    {...v4, dst: '10.250.0.0/16', prefixLength: 16, gateway: '10.100.0.9', dev: 'eth0', table: '100'},
    {...v4, dst: '10.51.0.0/16', prefixLength: 16, gateway: '10.100.0.51', dev: 'eth0', table: '51820'},
    {
      ...v4,
      dst: '10.200.0.0/16',
      prefixLength: 16,
      nexthops: [
        {gateway: '10.100.0.5', dev: 'eth0', weight: 1, flags: []},
        {gateway: '10.100.0.6', dev: 'eth0', weight: 3, flags: []},
      ],
    },
    {...v4, dst: '172.16.0.0/12', prefixLength: 12, gateway: '10.100.0.7', dev: 'eth0', metric: 200, protocol: 'static'},
    {...v4, dst: '172.16.0.0/12', prefixLength: 12, gateway: '10.100.0.8', dev: 'eth0', metric: 100, protocol: 'static'},
    {...v4, dst: '10.244.1.0/24', prefixLength: 24, dev: 'cbr0', protocol: 'kernel', scope: 'link', prefsrc: '10.244.1.1'},
    {...v4, type: 'local' as const, dst: '10.244.1.0/32', prefixLength: 32, dev: 'flannel.1', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.244.1.0'},
    {...v4, type: 'broadcast' as const, dst: '10.244.1.255/32', prefixLength: 32, dev: 'cbr0', table: 'local', protocol: 'kernel', scope: 'link', prefsrc: '10.244.1.1'},
  ]) {
    expect(routes).toContainEqual(r)
  }
  expect(value.every((r) => r.family === 4)).toBe(true)
  expect(value).toHaveLength(22)
}

export function expectNodeRoutes6(c: Captures): void {
  const {value, problems} = parseRoutes(stdout(c, 'routes6'), 6)
  expect(problems).toEqual([])
  const routes = strip(value)
  const v6 = {family: 6 as const, type: 'unicast' as const, flags: [], table: 'main', pref: 'medium'}
  for (const r of [
    {...v6, dst: '::/0', prefixLength: 0, gateway: 'fd00:100::1', dev: 'eth0', metric: 1024},
    {...v6, dst: '::/0', prefixLength: 0, gateway: 'fd00:100::1', dev: 'eth0', metric: 1024, table: '100'},
    {...v6, dst: '2001:db8:9::/48', prefixLength: 48, gateway: 'fd00:100::9', dev: 'eth0', metric: 50},
    // IPv6 blackhole routes hang off lo, and iproute2 says so.
    {...v6, type: 'blackhole' as const, dst: '2001:db8:dead::/48', prefixLength: 48, dev: 'lo', metric: 1024},
    {...v6, dst: 'fd00:244:2::/64', prefixLength: 64, gateway: 'fd00:100::3', dev: 'eth0', metric: 1024},
    {...v6, dst: 'fd00:244:1::/64', prefixLength: 64, dev: 'cbr0', protocol: 'kernel', metric: 256},
    {...v6, type: 'local' as const, dst: 'fd00:100::2/128', prefixLength: 128, dev: 'eth0', table: 'local', protocol: 'kernel', metric: 0},
  ]) {
    expect(routes).toContainEqual(r)
  }
  expect(value.every((r) => r.family === 6)).toBe(true)
}

/** Without -4/-6, `ip route show table all` prints both families in one array. */
export function expectNodeRoutesAll(c: Captures): void {
  const {value, problems} = parseRoutes(stdout(c, 'routesAll'), 4)
  expect(problems).toEqual([])
  const v4 = parseRoutes(stdout(c, 'routes4'), 4).value
  const v6 = parseRoutes(stdout(c, 'routes6'), 6).value
  expect(value.filter((r) => r.family === 4).map((r) => r.dst)).toEqual(v4.map((r) => r.dst))
  // The two dumps are separate commands; the builder waits until IPv6 addressing is settled (no
  // address in duplicate address detection, whose end adds a local fe80::…/128 route), so they agree.
  expect(value.filter((r) => r.family === 6).map((r) => `${r.table} ${r.dst}`)).toEqual(v6.map((r) => `${r.table} ${r.dst}`))
  // "default" with an IPv6 gateway is ::/0 even though the caller said family 4.
  expect(value.filter((r) => r.prefixLength === 0).map((r) => `${r.table} ${r.dst}`)).toEqual(['2 0.0.0.0/0', 'main 0.0.0.0/0', '100 ::/0', 'main ::/0'])
}

export function expectNodeRules(c: Captures): void {
  const r4 = parseRules(stdout(c, 'rules4'), 4)
  expect(r4.problems).toEqual([])
  const base = {family: 4, not: false, action: 'lookup', l3mdev: false}
  expect(r4.value).toEqual([
    {...base, priority: 0, table: 'local', index: 0},
    {...base, priority: 100, src: '10.244.1.2/32', table: '100', index: 1},
    {...base, priority: 200, fwmark: 0x4000, fwmask: 0x4000, table: '2', index: 2},
    {...base, priority: 300, dst: '10.50.0.0/16', iif: 'cbr0', table: '100', index: 3},
    {...base, priority: 310, not: true, fwmark: 0xca6c, fwmask: 0xffffffff, table: '51820', index: 4},
    {...base, priority: 400, table: 'main', suppressPrefixLength: 0, index: 5},
    {...base, priority: 500, dst: '10.52.0.0/16', action: 'unreachable', index: 6},
    {...base, priority: 510, dst: '10.53.0.0/16', action: 'blackhole', index: 7},
    {...base, priority: 520, fwmark: 0x10, fwmask: 0xffffffff, action: 'goto', goto: 32766, index: 8},
    {...base, priority: 530, oif: 'eth0', uidRange: {start: 1000, end: 2000}, ipproto: 'tcp', dport: {start: 443, end: 443}, table: '2', index: 9},
    {...base, priority: 32766, table: 'main', index: 10},
    {...base, priority: 32767, table: 'default', index: 11},
  ])
  const r6 = parseRules(stdout(c, 'rules6'), 6)
  expect(r6.problems).toEqual([])
  expect(r6.value).toEqual([
    {...base, family: 6, priority: 0, table: 'local', index: 0},
    {...base, family: 6, priority: 100, src: 'fd00:244:1::/64', table: '100', index: 1},
    {...base, family: 6, priority: 32766, table: 'main', index: 2},
  ])
}

export function expectNodeNeighbours(c: Captures): void {
  const {value, problems} = parseNeighbours(stdout(c, 'neigh'))
  expect(problems).toEqual([])
  const n = {router: false, proxy: false, externLearn: false, state: ['PERMANENT']}
  for (const e of [
    {...n, dst: '10.244.2.0', family: 4, dev: 'flannel.1', lladdr: '0a:00:00:00:02:00'},
    {...n, dst: '10.244.3.0', family: 4, dev: 'flannel.1', lladdr: '0a:00:00:00:03:00'},
    {...n, dst: '10.100.0.1', family: 4, dev: 'eth0', lladdr: '02:00:0a:64:00:01'},
    {...n, dst: 'fd00:100::1', family: 6, dev: 'eth0', lladdr: '02:00:0a:64:00:01', router: true},
  ]) {
    expect(value).toContainEqual(e)
  }
  // vxlan traffic makes the kernel resolve the VTEPs too (INCOMPLETE entries), depending on timing.
  expect(value.filter((e) => e.state.includes('PERMANENT'))).toHaveLength(4)
  const proxy = parseNeighbours(stdout(c, 'neighProxy'))
  expect(proxy).toEqual({value: [{dst: '10.100.0.50', family: 4, dev: 'eth0', state: [], router: false, proxy: true, externLearn: false}], problems: []})
}

export function expectNodeBridge(c: Captures): void {
  expect(parseBridgeLinks(stdout(c, 'bridgeLinks'))).toEqual({
    value: [{ifindex: 4, ifname: 'veth-pod1', master: 'cbr0', state: 'forwarding', priority: 32, cost: 2, flags: UP, mtu: 1450}],
    problems: [],
  })
  const fdb = parseFdb(stdout(c, 'fdb'))
  expect(fdb.problems).toEqual([])
  const vx = fdb.value.filter((e) => e.ifname === 'flannel.1')
  const self = {ifname: 'flannel.1', state: 'permanent', flags: ['self']}
  expect(vx).toHaveLength(4)
  for (const e of [
    {...self, mac: '00:00:00:00:00:00', dst: '10.100.0.3'},
    {...self, mac: '00:00:00:00:00:00', dst: '10.100.0.4'},
    {...self, mac: '0a:00:00:00:02:00', dst: '10.100.0.3'},
    {...self, mac: '0a:00:00:00:03:00', dst: '10.100.0.4'},
  ]) {
    expect(vx).toContainEqual(e)
  }
  // The bridge learns the pod's MAC on its port (dynamic: empty state) and owns the port's own MAC.
  expect(fdb.value).toContainEqual({mac: '02:00:0a:f4:01:ff', ifname: 'veth-pod1', master: 'cbr0', state: 'permanent', flags: []})
}

export function expectNodeSysctls(c: Captures): void {
  const {value, problems} = parseSysctls(stdout(c, 'sysctls'))
  expect(problems).toEqual([])
  expect(sysctlValue(value, 'net.ipv4.ip_forward')).toBe('1')
  expect(sysctlValue(value, 'net.ipv6.conf.all.forwarding')).toBe('0')
  // br_netfilter is built in, so these exist in every namespace; a new namespace starts at 1.
  expect(sysctlValue(value, 'net.bridge.bridge-nf-call-iptables')).toBe('1')
  expect(sysctlValue(value, 'net.bridge.bridge-nf-call-ip6tables')).toBe('1')
  expect(value).toContainEqual({path: '/proc/sys/net/ipv4/conf/flannel.1/rp_filter', key: 'net.ipv4.conf.flannel/1.rp_filter', value: '1', line: 10})
  expect(Object.fromEntries(rpFilterByInterface(value))).toEqual({
    all: 0,
    'br-stp': 0,
    cbr0: 0,
    default: 0,
    eth0: 2,
    'flannel.1': 1,
    lo: 0,
    macv0: 0,
    tap0: 0,
    'veth-pod1': 0,
  })
}
