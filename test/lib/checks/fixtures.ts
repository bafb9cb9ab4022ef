/**
 * Small snapshots for check tests, built from captured real output: the flannel node from
 * test/fixtures/iproute2/flannel-node.json plays node-1 (10.100.0.2, pod CIDR 10.244.1.0/24, VXLAN
 * peers 10.100.0.3 and 10.100.0.4), kube-proxy rules come from the lab's generator, and the cluster
 * is YAML read by the same code as `--objects`. Each fault is one edit of that healthy base.
 */
import {readFileSync} from 'node:fs'
import {runCheck} from '../../../src/lib/checks/context.js'
import type {Check} from '../../../src/lib/checks/types.js'
import {objectsFromText} from '../../../src/lib/gather/cluster/objects-file.js'
import {catalogCommand} from '../../../src/lib/gather/node/catalog.js'
import {kubeProxyIptablesRules, type ServiceModel as KpService} from '../../../src/lib/lab/kube-proxy-rules.js'
import {buildModel} from '../../../src/lib/model/model.js'
import type {Finding, Skipped} from '../../../src/lib/report/finding.js'
import type {CommandResult, NodeEvidence, Snapshot} from '../../../src/lib/snapshot/schema.js'

const FIXTURES = new URL('../../fixtures/', import.meta.url)
const flannel = JSON.parse(readFileSync(new URL('iproute2/flannel-node.json', FIXTURES), 'utf8')) as {
  namespaces: {node: Record<string, {stdout: string}>}
}
const raw = flannel.namespaces.node

export function fixtureText(path: string): string {
  return readFileSync(new URL(path, FIXTURES), 'utf8')
}

const sysctlLines = (raw.sysctls?.stdout ?? '').split('\n').filter(Boolean)

/** node-1's captured outputs by catalogue id. */
export function flannelNode(): Record<string, string> {
  return {
    links: raw.links?.stdout ?? '',
    addrs: raw.addrs?.stdout ?? '',
    routes4: raw.routes4?.stdout ?? '',
    routes6: raw.routes6?.stdout ?? '',
    rules4: raw.rules4?.stdout ?? '',
    rules6: raw.rules6?.stdout ?? '',
    neigh: raw.neigh?.stdout ?? '',
    'bridge-links': raw.bridgeLinks?.stdout ?? '',
    'bridge-fdb': raw.fdb?.stdout ?? '',
    sysctls: sysctlLines.filter((l) => !l.includes('rp_filter')).join('\n') + '\n',
    // The capture has flannel.1 strict; the healthy base sets it loose, rp-filter-strict's test uses the capture.
    'rp-filter': sysctlLines.filter((l) => l.includes('rp_filter')).map((l) => (l.includes('flannel.1') ? l.replace(':1', ':0') : l)).join('\n') + '\n',
    'iptables-save': kubeProxyRules(),
    'iptables-legacy-save': '',
    // A DNS flow through kube-dns to the CoreDNS pod that still exists (format from netfilter/conntrack-L.txt).
    conntrack: CONNTRACK_DNS_OK,
  }
}

export const CONNTRACK_DNS_OK = 'udp      17 29 src=10.244.1.5 dst=172.20.0.10 sport=40001 dport=53 src=10.244.2.3 dst=10.244.1.5 sport=53 dport=40001 mark=0 use=1\n'

export const CAPTURED_RP_FILTER = sysctlLines.filter((l) => l.includes('rp_filter')).join('\n') + '\n'

/** Edit one JSON array output (links, routes, fdb…) entry by entry. */
export function editJson(text: string, edit: (entries: Record<string, unknown>[]) => Record<string, unknown>[]): string {
  return JSON.stringify(edit(JSON.parse(text) as Record<string, unknown>[]))
}

export const WEB: KpService = {
  namespace: 'default',
  name: 'web',
  clusterIP: '172.20.0.50',
  ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080}],
  endpoints: [{ip: '10.244.1.5', nodeName: 'node-1'}, {ip: '10.244.2.7', nodeName: 'node-2'}],
}
export const DNS: KpService = {
  namespace: 'kube-system',
  name: 'kube-dns',
  clusterIP: '172.20.0.10',
  ports: [{name: 'dns', port: 53, protocol: 'UDP', targetPort: 53}],
  endpoints: [{ip: '10.244.2.3', nodeName: 'node-2'}],
}
export const KUBERNETES: KpService = {
  namespace: 'default',
  name: 'kubernetes',
  clusterIP: '172.20.0.1',
  ports: [{name: 'https', port: 443, protocol: 'TCP', targetPort: 6443}],
  endpoints: [{ip: '10.100.0.2'}],
}

export function kubeProxyRules(services: KpService[] = [KUBERNETES, WEB, DNS]): string {
  return kubeProxyIptablesRules({clusterCIDR: '10.244.0.0/16', nodeName: 'node-1', services})
}

export function nodeEvidence(name: string, outputs: Record<string, string | Pick<CommandResult, 'status' | 'reason'>>): NodeEvidence {
  const results: CommandResult[] = Object.entries(outputs).map(([id, out]) => {
    // 'nft' is the catalogue's id before issue 15 (nft -j list ruleset): old snapshots hold it.
    const argv = [...(catalogCommand(id)?.argv ?? (id === 'nft' ? ['nft', '-j', 'list', 'ruleset'] : [id]))]
    const base = {id, argv, execArgv: ['ip', 'netns', 'exec', name, ...argv], exitCode: 0, stderr: '', durationMs: 1, truncated: false}
    if (typeof out === 'string') return {...base, status: 'ok', stdout: out}
    return {...base, ...out, exitCode: 1, stdout: '', ...(out.reason ? {stderr: out.reason} : {})}
  })
  return {name, access: {kind: 'netns', target: name}, results}
}

interface NodeSpec {
  name: string
  ip: string
  podCIDR: string
  labels?: Record<string, string>
}

export const NODES: NodeSpec[] = [
  {name: 'node-1', ip: '10.100.0.2', podCIDR: '10.244.1.0/24'},
  {name: 'node-2', ip: '10.100.0.3', podCIDR: '10.244.2.0/24'},
  {name: 'node-3', ip: '10.100.0.4', podCIDR: '10.244.3.0/24'},
]

export interface PodSpec {
  namespace?: string
  name: string
  node: string
  ip: string
  labels?: Record<string, string>
  ready?: boolean
  ports?: {name?: string; containerPort: number; protocol?: string}[]
  hostNetwork?: boolean
}

export const PODS: PodSpec[] = [
  {name: 'web-1', node: 'node-1', ip: '10.244.1.5', labels: {app: 'web'}, ports: [{name: 'http', containerPort: 8080}]},
  {name: 'web-2', node: 'node-2', ip: '10.244.2.7', labels: {app: 'web'}, ports: [{name: 'http', containerPort: 8080}]},
  {namespace: 'kube-system', name: 'coredns-1', node: 'node-2', ip: '10.244.2.3', labels: {'k8s-app': 'kube-dns'}, ports: [{name: 'dns', containerPort: 53, protocol: 'UDP'}]},
]

export interface ServiceSpec {
  namespace?: string
  name: string
  clusterIP: string
  selector?: Record<string, string>
  ports: {name?: string; port: number; targetPort: number | string; protocol?: string}[]
  /** EndpointSlice: [ip, ready] pairs and the slice ports; omitted: no slice. */
  endpoints?: [string, boolean][]
  slicePorts?: {name?: string; port: number; protocol?: string}[]
}

export const SERVICES: ServiceSpec[] = [
  {name: 'kubernetes', clusterIP: '172.20.0.1', ports: [{name: 'https', port: 443, targetPort: 6443}], endpoints: [['10.100.0.2', true]], slicePorts: [{name: 'https', port: 6443}]},
  {
    name: 'web',
    clusterIP: '172.20.0.50',
    selector: {app: 'web'},
    ports: [{name: 'http', port: 80, targetPort: 'http'}],
    endpoints: [['10.244.1.5', true], ['10.244.2.7', true]],
    slicePorts: [{name: 'http', port: 8080}],
  },
  {
    namespace: 'kube-system',
    name: 'kube-dns',
    clusterIP: '172.20.0.10',
    selector: {'k8s-app': 'kube-dns'},
    ports: [{name: 'dns', port: 53, targetPort: 53, protocol: 'UDP'}],
    endpoints: [['10.244.2.3', true]],
    slicePorts: [{name: 'dns', port: 53, protocol: 'UDP'}],
  },
]

export interface ClusterSpec {
  nodes?: NodeSpec[]
  pods?: PodSpec[]
  services?: ServiceSpec[]
  kubeProxyMode?: string
  /** Extra YAML documents (NetworkPolicies…). */
  extra?: string
}

/** The cluster as `kubectl get -o yaml` would print it, read through the objects-file loader. */
export function clusterYaml(spec: ClusterSpec = {}): string {
  const docs: string[] = []
  for (const n of spec.nodes ?? NODES) {
    docs.push(`apiVersion: v1
kind: Node
metadata: {name: ${n.name}, labels: ${JSON.stringify({'kubernetes.io/hostname': n.name, ...n.labels})}}
spec: {podCIDR: ${n.podCIDR}, podCIDRs: [${n.podCIDR}]}
status:
  addresses: [{type: InternalIP, address: ${n.ip}}, {type: Hostname, address: ${n.name}}]
  conditions: [{type: Ready, status: "True"}]`)
  }
  for (const p of spec.pods ?? PODS) {
    const ports = (p.ports ?? []).map((x) => ({...(x.name ? {name: x.name} : {}), containerPort: x.containerPort, protocol: x.protocol ?? 'TCP'}))
    docs.push(`apiVersion: v1
kind: Pod
metadata: {namespace: ${p.namespace ?? 'default'}, name: ${p.name}, labels: ${JSON.stringify(p.labels ?? {})}}
spec: {nodeName: ${p.node}, hostNetwork: ${p.hostNetwork === true}, containers: [{name: main, image: registry.k8s.io/pause:3.9, ports: ${JSON.stringify(ports)}}]}
status: {phase: Running, podIP: ${p.ip}, podIPs: [{ip: ${p.ip}}], conditions: [{type: Ready, status: "${p.ready === false ? 'False' : 'True'}"}]}`)
  }
  for (const s of spec.services ?? SERVICES) {
    const ns = s.namespace ?? 'default'
    const ports = s.ports.map((x) => ({...(x.name ? {name: x.name} : {}), port: x.port, targetPort: x.targetPort, protocol: x.protocol ?? 'TCP'}))
    docs.push(`apiVersion: v1
kind: Service
metadata: {namespace: ${ns}, name: ${s.name}}
spec: {type: ClusterIP, clusterIP: ${s.clusterIP}, clusterIPs: [${s.clusterIP}], ports: ${JSON.stringify(ports)}${s.selector ? `, selector: ${JSON.stringify(s.selector)}` : ''}}`)
    if (s.endpoints) {
      const eps = s.endpoints.map(([ip, ready]) => ({addresses: [ip], conditions: {ready}}))
      const sp = (s.slicePorts ?? []).map((x) => ({...(x.name ? {name: x.name} : {}), port: x.port, protocol: x.protocol ?? 'TCP'}))
      docs.push(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {namespace: ${ns}, name: ${s.name}-abcde, labels: {kubernetes.io/service-name: ${s.name}}}
addressType: IPv4
endpoints: ${JSON.stringify(eps)}
ports: ${JSON.stringify(sp)}`)
    }
  }
  docs.push(`apiVersion: apps/v1
kind: DaemonSet
metadata: {namespace: kube-flannel, name: kube-flannel-ds}
spec: {template: {spec: {containers: [{name: kube-flannel, image: docker.io/flannel/flannel:v0.25.6}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {namespace: kube-system, name: kube-proxy}
spec: {template: {spec: {containers: [{name: kube-proxy, image: registry.k8s.io/kube-proxy:v1.31.2}]}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {namespace: kube-system, name: kube-proxy}
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    clusterCIDR: 10.244.0.0/16
    mode: "${spec.kubeProxyMode ?? 'iptables'}"`)
  if (spec.extra) docs.push(spec.extra)
  return docs.join('\n---\n') + '\n'
}

export function snapshotOf(options: {cluster?: ClusterSpec | null; nodes?: NodeEvidence[]; collectionErrors?: Snapshot['collectionErrors']} = {}): Snapshot {
  const cluster = options.cluster === null ? null : objectsFromText(clusterYaml(options.cluster ?? {}), 'cluster.yaml')
  return {
    schemaVersion: 1,
    kind: 'KnetSnapshot',
    meta: {knetVersion: '0.1.0', capturedAt: '2026-01-01T00:00:00.000Z', nodeAccess: 'netns', clusterSource: cluster ? 'objects-file' : null, catalog: []},
    nodes: options.nodes ?? [nodeEvidence('node-1', flannelNode())],
    cluster,
    collectionErrors: options.collectionErrors ?? [],
  }
}

export function run(check: Check, snapshot: Snapshot): {findings: Finding[]; skipped: Skipped[]} {
  const result = runCheck(buildModel(snapshot), check)
  // A finding without evidence is a bug, whatever the check.
  for (const f of result.findings) if (f.evidence.length === 0) throw new Error(`${f.check}: finding without evidence: ${f.message}`)
  return result
}

/** web dual-stack: an IPv4 and an IPv6 EndpointSlice (`v6Ready`: which IPv6 endpoints are ready). */
export function webDualStack(v6Ready: [boolean, boolean] = [true, true]): string {
  return `apiVersion: v1
kind: Service
metadata: {namespace: default, name: web}
spec: {type: ClusterIP, clusterIP: 172.20.0.50, clusterIPs: [172.20.0.50, "fd00:10:96::50"], ipFamilies: [IPv4, IPv6], ipFamilyPolicy: RequireDualStack, selector: {app: web}, ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {namespace: default, name: web-abcde, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.244.1.5], conditions: {ready: true}}, {addresses: [10.244.2.7], conditions: {ready: true}}]
ports: [{name: http, port: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {namespace: default, name: web-v6xyz, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
endpoints: [{addresses: ["fd00:10:244:1::5"], conditions: {ready: ${v6Ready[0]}}}, {addresses: ["fd00:10:244:2::7"], conditions: {ready: ${v6Ready[1]}}}]
ports: [{name: http, port: 8080, protocol: TCP}]`
}
