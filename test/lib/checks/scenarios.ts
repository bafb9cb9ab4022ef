/**
 * One faulty snapshot per check: the healthy base with exactly the fault the check is about.
 * Per-check tests assert the exact findings; the registry test runs every check on every scenario.
 */
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {
  CAPTURED_RP_FILTER,
  CONNTRACK_DNS_OK,
  DNS,
  editJson,
  fixtureText,
  flannelNode,
  KUBERNETES,
  kubeProxyRules,
  NODES,
  nodeEvidence,
  PODS,
  SERVICES,
  snapshotOf,
  WEB,
  type ServiceSpec,
} from './fixtures.js'

export function node1(edit: (o: Record<string, string>) => void = () => {}) {
  const outputs = flannelNode()
  edit(outputs)
  return nodeEvidence('node-1', outputs)
}

const withService = (name: string, change: (s: ServiceSpec) => ServiceSpec): ServiceSpec[] => SERVICES.map((s) => (s.name === name ? change(s) : s))

export const DEFAULT_DENY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: default, name: default-deny}
spec: {podSelector: {}, policyTypes: [Ingress]}`

export const SCENARIOS: Record<string, () => Snapshot> = {
  // node-3 was given a pod CIDR inside docker0's 172.17.0.0/16, and node-1 runs docker.
  'cidr-overlap': () =>
    snapshotOf({
      cluster: {nodes: NODES.map((n) => (n.name === 'node-3' ? {...n, podCIDR: '172.17.3.0/24'} : n)), pods: PODS},
      nodes: [node1((o) => Object.assign(o, dockerBridge(o)))],
    }),
  'pod-ip-outside-node-cidr': () => snapshotOf({cluster: {pods: PODS.map((p) => (p.name === 'web-2' ? {...p, ip: '10.244.1.9'} : p))}}),
  // host-local IPAM state lost on node-1 (CNI reinstalled): 10.244.1.5 handed out again.
  'pod-ip-duplicate': () => snapshotOf({cluster: {pods: [...PODS, {name: 'web-3', node: 'node-1', ip: '10.244.1.5', labels: {app: 'web'}, ports: [{name: 'http', containerPort: 8080}]}]}}),
  // flanneld lost node-3: its route, neighbour and FDB entries are gone; only the default route matches.
  'route-missing': () =>
    snapshotOf({
      nodes: [
        node1((o) => {
          o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== '10.244.3.0/24'))
        }),
      ],
    }),
  // node-3 was replaced and came back as 10.100.0.4, but node-1's FDB still sends its VXLAN traffic to the old 10.100.0.9.
  'route-nexthop-wrong': () =>
    snapshotOf({
      nodes: [
        node1((o) => {
          o['bridge-fdb'] = editJson(o['bridge-fdb'] as string, (f) => f.map((x) => (x.mac === '0a:00:00:00:03:00' ? {...x, dst: '10.100.0.9'} : x)))
        }),
      ],
    }),
  // web-2 was rescheduled (10.244.2.7 → gone) but node-1's kube-proxy still DNATs to 10.244.2.99.
  'nat-stale-endpoint': () =>
    snapshotOf({
      cluster: {services: withService('web', (s) => ({...s, endpoints: [['10.244.1.5', true]]}))},
      nodes: [node1((o) => (o['iptables-save'] = kubeProxyRules([KUBERNETES, {...WEB, endpoints: [{ip: '10.244.1.5'}, {ip: '10.244.2.99'}]}, DNS])))],
    }),
  'nat-missing-service': () => snapshotOf({nodes: [node1((o) => (o['iptables-save'] = kubeProxyRules([KUBERNETES, WEB])))]}),
  'nat-orphan-service': () =>
    snapshotOf({
      nodes: [node1((o) => (o['iptables-save'] = kubeProxyRules([KUBERNETES, WEB, DNS, {...WEB, name: 'old-api', clusterIP: '172.20.0.77', endpoints: [{ip: '10.244.3.4'}]}])))],
    }),
  // CoreDNS moved from 10.244.2.3 to 10.244.2.4; a client's UDP flow still replies from the old IP.
  'conntrack-stale': () =>
    snapshotOf({
      cluster: {
        pods: PODS.map((p) => (p.name === 'coredns-1' ? {...p, ip: '10.244.2.4'} : p)),
        services: withService('kube-dns', (s) => ({...s, endpoints: [['10.244.2.4', true]]})),
      },
      nodes: [node1((o) => (o['iptables-save'] = kubeProxyRules([KUBERNETES, WEB, {...DNS, endpoints: [{ip: '10.244.2.4'}]}])))],
    }),
  'ip-forward-off': () => snapshotOf({nodes: [node1((o) => (o.sysctls = (o.sysctls as string).replace('ip_forward:1', 'ip_forward:0')))]}),
  // br_netfilter not loaded: the two /proc/sys/net/bridge files are missing from grep's output.
  'bridge-nf-call-off': () =>
    snapshotOf({nodes: [node1((o) => (o.sysctls = (o.sysctls as string).split('\n').filter((l) => !l.includes('/bridge/')).join('\n')))]}),
  // Docker started after the CNI and set the FORWARD policy to DROP.
  'forward-policy-drop': () => snapshotOf({nodes: [node1((o) => (o['iptables-save'] = (o['iptables-save'] as string).replace(':FORWARD ACCEPT [0:0]', ':FORWARD DROP [0:0]')))]}),
  'rp-filter-strict': () => snapshotOf({nodes: [node1((o) => (o['rp-filter'] = CAPTURED_RP_FILTER))]}),
  // Felix did not program web-1's veth (or something reset it): proxy_arp is 0 on a Calico node.
  'proxy-arp-off': () =>
    withCniDaemonSet(snapshotOf({nodes: [calicoNode((o) => (o['proxy-arp'] = (o['proxy-arp'] as string).replace('cali1f0a2b3c4d5/proxy_arp:1', 'cali1f0a2b3c4d5/proxy_arp:0')))]}), 'none'),
  'iptables-backend-mixed': () => snapshotOf({nodes: [node1((o) => (o['iptables-legacy-save'] = fixtureText('netfilter/iptables-legacy-save-c.txt')))]}),
  // iptables in userspace older than the kernel's rule: kube-proxy's DNAT printed garbled.
  'iptables-unreadable': () =>
    snapshotOf({nodes: [node1((o) => (o['iptables-save'] = (o['iptables-save'] as string).replace(/--to-destination \S+/, '--to-destination  --random --to-destination 0.0.0.0:0')))]}),
  'veth-detached': () => snapshotOf({nodes: [node1((o) => (o.links = editJson(o.links as string, (l) => l.map(({master: _m, ...x}) => x))))]}),
  // An agent downed web-1's cali veth on a Calico node; the kernel took the pod's /32 route with it.
  'veth-down': () => snapshotOf({nodes: [calicoNode(vethDownEdit('cali1f0a2b3c4d5', '10.244.1.5'))]}),
  'bridge-down': () =>
    snapshotOf({
      nodes: [node1((o) => (o.links = editJson(o.links as string, (l) => l.map((x) => (x.ifname === 'cbr0' ? {...x, flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN'} : x)))))],
    }),
  'mtu-mismatch': () => snapshotOf({nodes: [node1((o) => (o.links = editJson(o.links as string, (l) => l.map((x) => (x.ifname === 'flannel.1' ? {...x, mtu: 1500} : x)))))]}),
  'service-no-endpoints': () =>
    snapshotOf({
      cluster: {
        pods: PODS.map((p) => (p.labels?.app === 'web' ? {...p, ready: false} : p)),
        services: withService('web', (s) => ({...s, endpoints: [['10.244.1.5', false], ['10.244.2.7', false]]})),
      },
      nodes: [node1((o) => (o['iptables-save'] = kubeProxyRules([KUBERNETES, {...WEB, endpoints: []}, DNS])))],
    }),
  'service-targetport-mismatch': () => snapshotOf({cluster: {services: withService('web', (s) => ({...s, ports: [{name: 'http', port: 80, targetPort: 'web'}]}))}}),
  'service-selector-matches-nothing': () =>
    snapshotOf({
      cluster: {services: withService('web', (s) => ({...s, selector: {app: 'wbe'}, endpoints: []}))},
      nodes: [node1((o) => (o['iptables-save'] = kubeProxyRules([KUBERNETES, {...WEB, endpoints: []}, DNS])))],
    }),
  'netpol-isolates': () => snapshotOf({cluster: {extra: DEFAULT_DENY}}),
  'kube-proxy-mode': () => snapshotOf({cluster: {kubeProxyMode: 'ipvs'}}),
}

/** node-1 with docker0 (172.17.0.1/16, no containers), entries shaped like the captured cbr0. */
export function dockerBridge(o: Record<string, string>): Record<string, string> {
  return {
    links: editJson(o.links as string, (l) => [...l, {...(l.find((x) => x.ifname === 'cbr0') ?? {}), ifindex: 9, ifname: 'docker0', address: '02:42:ac:11:00:01', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'], operstate: 'DOWN', mtu: 1500}]),
    routes4: editJson(o.routes4 as string, (r) => [...r, {dst: '172.17.0.0/16', dev: 'docker0', protocol: 'kernel', scope: 'link', prefsrc: '172.17.0.1', flags: ['linkdown']}]),
    addrs: editJson(o.addrs as string, (a) => [
      ...a,
      {ifindex: 9, ifname: 'docker0', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'], mtu: 1500, operstate: 'DOWN', addr_info: [{family: 'inet', local: '172.17.0.1', prefixlen: 16, broadcast: '172.17.255.255', scope: 'global', label: 'docker0'}]},
    ]),
  }
}

/**
 * node-1's cbr0 also given node-2's range, as the lab's cidr-overlap fault does it (a stale CNI
 * config): the address without its prefix route, and the connected route replacing the one to
 * node-2. `address: false` leaves only the route.
 */
export function bridgeTakesNode2(o: Record<string, string>, options: {address?: boolean} = {}): void {
  const route = {dst: '10.244.2.0/24', dev: 'cbr0', protocol: 'kernel', scope: 'link', prefsrc: '10.244.2.1', flags: []}
  o.routes4 = editJson(o.routes4 as string, (r) => r.map((x) => (x.dst === '10.244.2.0/24' ? route : x)))
  if (options.address === false) return
  // The address also brings its local-table entry: node-1 now owns 10.244.2.1 itself.
  const local = {type: 'local', dst: '10.244.2.1', dev: 'cbr0', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.244.2.1', flags: []}
  o.routes4 = editJson(o.routes4 as string, (r) => [...r, local])
  const extra = {family: 'inet', local: '10.244.2.1', prefixlen: 24, scope: 'global', noprefixroute: true, label: 'cbr0', valid_life_time: 4294967295, preferred_life_time: 4294967295}
  o.addrs = editJson(o.addrs as string, (a) => a.map((x) => (x.ifname === 'cbr0' ? {...x, addr_info: [...(x.addr_info as unknown[]), extra]} : x)))
}

/**
 * node-1 as Calico lays a node out (BGP, no encapsulation), hand-built in `ip -j` shapes: pods on
 * routed cali* veths (no bridge, no address, a /32 route back to each pod, rp_filter=1 and
 * proxy_arp=1 as Felix sets them), a blackhole route for its own /26 IPAM block, and BIRD's routes
 * to node-2's and node-3's blocks. web-1 (10.244.1.5) is on cali1f0a2b3c4d5.
 */
export function calicoNode(edit: (o: Record<string, string>) => void = () => {}) {
  const veth = (ifindex: number, ifname: string, netnsid: number) => ({
    ifindex, link_index: 4, ifname, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP',
    link_type: 'ether', address: 'ee:ee:ee:ee:ee:ee', link_netnsid: netnsid, linkinfo: {info_kind: 'veth'},
  })
  const ll = (ifindex: number, ifname: string) => ({ifindex, ifname, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', addr_info: [{family: 'inet6', local: 'fe80::ecee:eeff:feee:eeee', prefixlen: 64, scope: 'link'}]})
  const local = {table: 'local', protocol: 'kernel', scope: 'host', flags: []}
  const outputs: Record<string, string> = {
    links: JSON.stringify([
      {ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, operstate: 'UNKNOWN', link_type: 'loopback', address: '00:00:00:00:00:00'},
      {ifindex: 2, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether', address: '02:00:0a:64:00:02'},
      veth(7, 'cali1f0a2b3c4d5', 1),
      veth(8, 'cali9e8d7c6b5a4', 2),
    ]),
    addrs: JSON.stringify([
      {ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, operstate: 'UNKNOWN', addr_info: [{family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo'}]},
      {ifindex: 2, ifname: 'eth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', addr_info: [{family: 'inet', local: '10.100.0.2', prefixlen: 24, scope: 'global', label: 'eth0'}]},
      ll(7, 'cali1f0a2b3c4d5'),
      ll(8, 'cali9e8d7c6b5a4'),
    ]),
    routes4: JSON.stringify([
      {dst: 'default', gateway: '10.100.0.1', dev: 'eth0', flags: []},
      {dst: '10.100.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.100.0.2', flags: []},
      {type: 'blackhole', dst: '10.244.1.0/26', protocol: 'bird', flags: []},
      {dst: '10.244.1.5', dev: 'cali1f0a2b3c4d5', scope: 'link', flags: []},
      {dst: '10.244.1.6', dev: 'cali9e8d7c6b5a4', scope: 'link', flags: []},
      {dst: '10.244.2.0/26', gateway: '10.100.0.3', dev: 'eth0', protocol: 'bird', flags: []},
      {dst: '10.244.3.0/26', gateway: '10.100.0.4', dev: 'eth0', protocol: 'bird', flags: []},
      {type: 'local', dst: '10.100.0.2', dev: 'eth0', prefsrc: '10.100.0.2', ...local},
      {type: 'local', dst: '127.0.0.1', dev: 'lo', prefsrc: '127.0.0.1', ...local},
    ]),
    routes6: '[]',
    rules4: JSON.stringify([{priority: 0, src: 'all', table: 'local'}, {priority: 32766, src: 'all', table: 'main'}, {priority: 32767, src: 'all', table: 'default'}]),
    rules6: '[]',
    neigh: JSON.stringify([{dst: '10.100.0.1', dev: 'eth0', lladdr: '02:00:0a:64:00:01', state: ['REACHABLE']}]),
    'bridge-links': '[]',
    'bridge-fdb': '[]',
    // Calico needs no br_netfilter: the two bridge files are absent.
    sysctls: '/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/ipv6/conf/all/forwarding:0\n',
    'rp-filter': confLines('rp_filter', {all: 0, cali1f0a2b3c4d5: 1, cali9e8d7c6b5a4: 1, default: 0, eth0: 1, lo: 0}),
    'proxy-arp': confLines('proxy_arp', {all: 0, cali1f0a2b3c4d5: 1, cali9e8d7c6b5a4: 1, default: 0, eth0: 0, lo: 0}),
    'iptables-save': kubeProxyRules(),
    'iptables-legacy-save': '',
    conntrack: CONNTRACK_DNS_OK,
    'cni-conf': ['{', '  "name": "k8s-pod-network",', '  "cniVersion": "0.3.1",', '  "plugins": [', '    {"type": "calico", "ipam": {"type": "calico-ipam"}},', '    {"type": "portmap", "capabilities": {"portMappings": true}}', '  ]', '}']
      .map((l, i) => `/etc/cni/net.d/10-calico.conflist:${i + 1}:${l}`)
      .join('\n') + '\n',
  }
  edit(outputs)
  return nodeEvidence('node-1', outputs)
}

/** A routed pod veth set down: its flags and state, and the scope-link /32 route through it the kernel drops. */
export function vethDownEdit(ifname: string, podIp: string): (o: Record<string, string>) => void {
  return (o) => {
    o.links = editJson(o.links as string, (l) => l.map((x) => (x.ifname === ifname ? {...x, flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN'} : x)))
    o.routes4 = editJson(o.routes4 as string, (r) => r.filter((x) => x.dst !== podIp))
  }
}

/** `grep -r -H --include=NAME . /proc/sys/net/ipv4/conf` output for the given values. */
export function confLines(name: string, values: Record<string, number>): string {
  return Object.entries(values).map(([iface, v]) => `/proc/sys/net/ipv4/conf/${iface}/${name}:${v}\n`).join('')
}

/** The base cluster with its CNI DaemonSet replaced: calico-node, or none at all (kube-proxy stays). */
export function withCniDaemonSet(snapshot: Snapshot, cni: 'calico' | 'none'): Snapshot {
  const objects = snapshot.cluster?.objects
  if (!objects) return snapshot
  const kept = objects.daemonSets.filter((d) => (d as {metadata?: {name?: string}}).metadata?.name === 'kube-proxy')
  const calico = {metadata: {namespace: 'kube-system', name: 'calico-node'}, spec: {template: {spec: {containers: [{name: 'calico-node', image: 'docker.io/calico/node:v3.28.0'}]}}}}
  objects.daemonSets = cni === 'calico' ? [...kept, calico] : kept
  return snapshot
}

/**
 * node-1 as a host-gw node of a CNI knet does not recognise: the captured node with flannel.1
 * removed and plain routes to the other nodes' pod CIDRs through their addresses.
 */
export function hostGwNode(edit: (o: Record<string, string>) => void = () => {}) {
  return node1((o) => {
    o.links = editJson(o.links as string, (l) => l.filter((x) => x.ifname !== 'flannel.1'))
    o.addrs = editJson(o.addrs as string, (a) => a.filter((x) => x.ifname !== 'flannel.1'))
    o.routes4 = editJson(o.routes4 as string, (r) =>
      r.filter((x) => x.dev !== 'flannel.1').concat([
        {dst: '10.244.2.0/24', gateway: '10.100.0.3', dev: 'eth0', flags: []},
        {dst: '10.244.3.0/24', gateway: '10.100.0.4', dev: 'eth0', flags: []},
      ]),
    )
    edit(o)
  })
}
