/**
 * A two-node dual-stack cluster built from real network namespaces, for trace and doctor tests of
 * IPv6: each node has a bridge cbr0 holding its IPv4 and IPv6 pod ranges with one pod behind a veth,
 * the nodes share an underlay link (10.100.0.0/24 and fd00:100::/64) and route each other's pod
 * ranges host-gw style in both families, with kube-proxy-style rules for the dual-stack Service
 * default/web in iptables and ip6tables (`natRules`). DAD is off (TestNetns) and addresses
 * are nodad, so nothing waits on a timer. Both nodes hold kube-proxy-style rules for the Service. Faults are applied to the live namespaces with real
 * commands and the nodes gathered again through the catalogue.
 */
import {objectsFromText} from '../../../src/lib/gather/cluster/objects-file.js'
import {gatherNodes} from '../../../src/lib/gather/node/gather-node.js'
import {NetnsTransport} from '../../../src/lib/gather/node/netns.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {TestNetns} from '../../helpers/netns-core.js'

export interface DualStackLab {
  node: [TestNetns, TestNetns]
  pod: [TestNetns, TestNetns]
  snapshot: () => Promise<Snapshot>
  destroy: () => void
}

export const V6 = {svc: 'fd00:10:96::a', pod1: 'fd00:10:244:1::2', pod2: 'fd00:10:244:2::2', node1: 'fd00:100::2', node2: 'fd00:100::3'}
export const V4 = {svc: '10.96.0.10', pod1: '10.244.1.2', pod2: '10.244.2.2', node1: '10.100.0.2', node2: '10.100.0.3'}

export const natRules = (svc: string, ep: string, plen: number, family: 4 | 6): string => {
  const to = family === 6 ? `[${ep}]:8080` : `${ep}:8080`
  return `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-WEB${family} - [0:0]
:KUBE-SEP-WEB${family} - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d ${svc}/${plen} -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB${family}
-A KUBE-SVC-WEB${family} -m comment --comment "default/web:http -> ${to}" -j KUBE-SEP-WEB${family}
-A KUBE-SEP-WEB${family} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination ${to}
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
`
}

/** The cluster as the API would list it: dual-stack nodes, pods, Service and one EndpointSlice per family. */
export function dualStackObjects(options: {ipv6Endpoints?: boolean} = {}): string {
  const node = (i: number) => `apiVersion: v1
kind: Node
metadata: {name: node-${i}, labels: {kubernetes.io/hostname: node-${i}}}
spec: {podCIDR: 10.244.${i}.0/24, podCIDRs: [10.244.${i}.0/24, "fd00:10:244:${i}::/64"]}
status:
  addresses: [{type: InternalIP, address: 10.100.0.${i + 1}}, {type: InternalIP, address: "fd00:100::${i + 1}"}, {type: Hostname, address: node-${i}}]
  conditions: [{type: Ready, status: "True"}]`
  const pod = (i: number) => `apiVersion: v1
kind: Pod
metadata: {namespace: default, name: p${i}, labels: {app: web}}
spec: {nodeName: node-${i}, containers: [{name: main, image: registry.k8s.io/pause:3.9, ports: [{name: http, containerPort: 8080, protocol: TCP}]}]}
status: {phase: Running, podIP: 10.244.${i}.2, podIPs: [{ip: 10.244.${i}.2}, {ip: "fd00:10:244:${i}::2"}], conditions: [{type: Ready, status: "True"}]}`
  const slice = (family: 4 | 6, ip: string) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {namespace: default, name: web-ipv${family}, labels: {kubernetes.io/service-name: web}}
addressType: IPv${family}
endpoints: [{addresses: ["${ip}"], conditions: {ready: true}, nodeName: node-2, targetRef: {kind: Pod, namespace: default, name: p2}}]
ports: [{name: http, port: 8080, protocol: TCP}]`
  return [
    node(1), node(2), pod(1), pod(2),
    `apiVersion: v1
kind: Service
metadata: {namespace: default, name: web}
spec: {type: ClusterIP, clusterIP: ${V4.svc}, clusterIPs: [${V4.svc}, "${V6.svc}"], ipFamilies: [IPv4, IPv6], ipFamilyPolicy: RequireDualStack, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]}`,
    slice(4, V4.pod2),
    ...(options.ipv6Endpoints === false ? [] : [slice(6, V6.pod2)]),
    `apiVersion: apps/v1
kind: DaemonSet
metadata: {namespace: kube-system, name: kube-proxy}
spec: {template: {spec: {containers: [{name: kube-proxy, image: registry.k8s.io/kube-proxy:v1.31.2}]}}}`,
  ].join('\n---\n') + '\n'
}

export function buildDualStackLab(tag: string): DualStackLab {
  const node: [TestNetns, TestNetns] = [TestNetns.create(`${tag}n1`), TestNetns.create(`${tag}n2`)]
  const pod: [TestNetns, TestNetns] = [TestNetns.create(`${tag}p1`), TestNetns.create(`${tag}p2`)]
  const destroy = () => [...pod, ...node].forEach((n) => n.destroy())
  try {
    node[0].run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node[1].name])
    for (const i of [1, 2] as const) {
      const n = node[i - 1] as TestNetns
      const p = pod[i - 1] as TestNetns
      const other = i === 1 ? 2 : 1
      n.run(['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'])
      n.run(['ip', 'addr', 'add', `10.100.0.${i + 1}/24`, 'dev', 'eth0'])
      n.run(['ip', 'addr', 'add', `fd00:100::${i + 1}/64`, 'dev', 'eth0', 'nodad'])
      n.run(['ip', 'link', 'set', 'eth0', 'up'])
      n.run(['ip', 'link', 'add', 'cbr0', 'type', 'bridge'])
      n.run(['ip', 'addr', 'add', `10.244.${i}.1/24`, 'dev', 'cbr0'])
      n.run(['ip', 'addr', 'add', `fd00:10:244:${i}::1/64`, 'dev', 'cbr0', 'nodad'])
      n.run(['ip', 'link', 'set', 'cbr0', 'up'])
      n.run(['ip', 'link', 'add', 'veth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.name])
      n.run(['ip', 'link', 'set', 'veth1', 'master', 'cbr0'])
      n.run(['ip', 'link', 'set', 'veth1', 'up'])
      p.run(['ip', 'addr', 'add', `10.244.${i}.2/24`, 'dev', 'eth0'])
      p.run(['ip', 'addr', 'add', `fd00:10:244:${i}::2/64`, 'dev', 'eth0', 'nodad'])
      p.run(['ip', 'link', 'set', 'eth0', 'up'])
      p.run(['ip', 'route', 'add', 'default', 'via', `10.244.${i}.1`])
      p.run(['ip', '-6', 'route', 'add', 'default', 'via', `fd00:10:244:${i}::1`])
      n.run(['ip', 'route', 'add', `10.244.${other}.0/24`, 'via', `10.100.0.${other + 1}`])
      n.run(['ip', '-6', 'route', 'add', `fd00:10:244:${other}::/64`, 'via', `fd00:100::${other + 1}`])
      n.run(['iptables-restore'], natRules(V4.svc, V4.pod2, 32, 4))
      n.run(['ip6tables-restore'], natRules(V6.svc, V6.pod2, 128, 6))
    }
    for (const n of [...node, ...pod]) n.settle()
    // Real neighbour entries (ARP and NDP) for the pods on their bridges, as traffic leaves them.
    for (const i of [1, 2] as const) {
      const p = pod[i - 1] as TestNetns
      p.run(['ping', '-c', '1', '-W', '2', `10.244.${i}.1`])
      p.run(['ping', '-6', '-c', '1', '-W', '2', `fd00:10:244:${i}::1`])
    }
  } catch (error) {
    destroy()
    throw error
  }
  const snapshot = async (): Promise<Snapshot> => {
    const {nodes} = await gatherNodes(node.map((n, i) => ({name: `node-${i + 1}`, transport: new NetnsTransport(n.name)})))
    const cluster = objectsFromText(dualStackObjects(), 'cluster.yaml')
    return {
      schemaVersion: 1, kind: 'KnetSnapshot',
      meta: {knetVersion: 'test', capturedAt: '2026-01-01T00:00:00.000Z', nodeAccess: 'netns', clusterSource: 'objects-file', catalog: []},
      nodes, cluster, collectionErrors: [],
    }
  }
  return {node, pod, snapshot, destroy}
}
