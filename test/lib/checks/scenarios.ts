/**
 * One faulty snapshot per check: the healthy base with exactly the fault the check is about.
 * Per-check tests assert the exact findings; the registry test runs every check on every scenario.
 */
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {
  CAPTURED_RP_FILTER,
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
  'iptables-backend-mixed': () => snapshotOf({nodes: [node1((o) => (o['iptables-legacy-save'] = fixtureText('netfilter/iptables-legacy-save-c.txt')))]}),
  'veth-detached': () => snapshotOf({nodes: [node1((o) => (o.links = editJson(o.links as string, (l) => l.map(({master: _m, ...x}) => x))))]}),
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
