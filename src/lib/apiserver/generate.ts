/**
 * A synthetic, deterministic cluster of any size for scale tests and benchmarks: kubeadm-shaped
 * nodes, pods spread evenly over them, Services each selecting a group of pods, one EndpointSlice
 * per ≤100 endpoints, and a few NetworkPolicies. Same options and seed → identical objects.
 *
 * Address plan (valid up to 32,768 nodes and 253 pods per node):
 *   nodes      172.16.0.0/12, node i = 172.16.0.0 + 10 + i
 *   pods       clusterCIDR 10.128.0.0/9, node i gets 10.(128 + i>>8).(i&255).0/24
 *   Services   10.96.0.0/12 (kubeadm default); .1 is kubernetes, .10 is kube-dns
 * The pod range sits outside the Service range on purpose: a generated cluster must be healthy.
 */
export interface GenerateOptions {
  nodes: number
  pods: number
  services: number
  seed?: number
  /** Namespaces for workloads (default: one per 20 Services, at least 1). */
  namespaces?: number
  cni?: 'calico' | 'cilium' | 'flannel'
  kubeProxyMode?: '' | 'iptables' | 'ipvs' | 'nftables'
}

const POD_CIDR = '10.128.0.0/9'
const SLICE_MAX = 100

/** mulberry32: tiny, fast, seeded and reproducible; good enough for shapes (not for anything secret). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

const NODE_BASE = (172 << 24) + (16 << 16) + 10
const SERVICE_BASE = ((10 << 24) + (96 << 16)) >>> 0
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789'

export function generateCluster(options: GenerateOptions): unknown[] {
  const {nodes: nodeCount, pods: podCount, services: serviceCount} = options
  if (nodeCount < 1 || nodeCount > 32768) throw new Error('generateCluster: nodes must be 1..32768')
  if (Math.ceil(podCount / nodeCount) > 253) throw new Error('generateCluster: more than 253 pods per node do not fit a /24')
  const rand = prng(options.seed ?? 1)
  const suffix = (len: number): string => {
    let s = ''
    for (let i = 0; i < len; i++) s += ALNUM[Math.floor(rand() * ALNUM.length)]
    return s
  }
  const nsCount = options.namespaces ?? Math.max(1, Math.ceil(serviceCount / 20))
  const nsOf = (app: number): string => `team-${app % nsCount}`
  const out: unknown[] = []
  const created = '2024-11-02T09:14:03Z'

  const nodeNames: string[] = []
  for (let i = 0; i < nodeCount; i++) {
    const name = i === 0 ? 'control-plane-0' : `node-${String(i).padStart(5, '0')}`
    nodeNames.push(name)
    const podCIDR = `10.${128 + (i >> 8)}.${i & 255}.0/24`
    out.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        uid: uid(1, i),
        creationTimestamp: created,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          ...(i === 0 ? {'node-role.kubernetes.io/control-plane': ''} : {}),
          'topology.kubernetes.io/zone': `zone-${String.fromCharCode(97 + (i % 3))}`,
        },
      },
      spec: {
        podCIDR,
        podCIDRs: [podCIDR],
        ...(i === 0 ? {taints: [{key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule'}]} : {}),
      },
      status: {
        addresses: [
          {type: 'InternalIP', address: ipv4(NODE_BASE + i)},
          {type: 'Hostname', address: name},
        ],
        conditions: [{type: 'Ready', status: rand() < 0.002 ? 'False' : 'True', reason: 'KubeletReady'}],
        nodeInfo: {kubeletVersion: 'v1.31.2', kubeProxyVersion: 'v1.31.2', containerRuntimeVersion: 'containerd://1.7.22', operatingSystem: 'linux', architecture: 'amd64'},
      },
    })
  }

  // Pods: pod j runs app (j % services) on node (j % nodes); IPs fill each node's /24 from .2.
  const endpointsByApp: {ip: string; node: string; pod: string; ready: boolean}[][] = Array.from({length: Math.max(serviceCount, 1)}, () => [])
  for (let j = 0; j < podCount; j++) {
    const nodeIndex = j % nodeCount
    const app = serviceCount > 0 ? j % serviceCount : 0
    const ns = nsOf(app)
    const ip = `10.${128 + (nodeIndex >> 8)}.${nodeIndex & 255}.${2 + Math.floor(j / nodeCount)}`
    const name = `app-${app}-${suffix(9)}-${suffix(5)}`
    const ready = rand() >= 0.01
    endpointsByApp[app]?.push({ip, node: nodeNames[nodeIndex] ?? '', pod: name, ready})
    out.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name, namespace: ns, uid: uid(2, j), creationTimestamp: created, labels: {app: `app-${app}`, 'pod-template-hash': 'b7f9c4d2e'}},
      spec: {
        nodeName: nodeNames[nodeIndex],
        containers: [{name: 'app', image: 'registry.example.com/app:1.0', ports: [{name: 'http', containerPort: 8080, protocol: 'TCP'}]}],
      },
      status: {
        phase: 'Running',
        hostIP: ipv4(NODE_BASE + nodeIndex),
        podIP: ip,
        podIPs: [{ip}],
        conditions: [{type: 'Ready', status: ready ? 'True' : 'False'}],
      },
    })
  }

  for (let s = 0; s < serviceCount; s++) {
    const ns = nsOf(s)
    const name = `svc-${s}`
    const kind = s % 50 === 49 ? 'LoadBalancer' : s % 10 === 9 ? 'NodePort' : 'ClusterIP'
    const headless = kind === 'ClusterIP' && s % 25 === 24
    const clusterIP = headless ? 'None' : ipv4(SERVICE_BASE + 11 + s)
    const port: Record<string, unknown> = {name: 'http', port: 80, protocol: 'TCP', targetPort: s % 2 === 0 ? 'http' : 8080}
    if (kind !== 'ClusterIP') port.nodePort = 30000 + (s % 2768)
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name, namespace: ns, uid: uid(3, s), creationTimestamp: created},
      spec: {
        type: kind,
        clusterIP,
        clusterIPs: [clusterIP],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
        ...(kind === 'ClusterIP' ? {} : {externalTrafficPolicy: s % 3 === 0 ? 'Local' : 'Cluster'}),
        selector: {app: `app-${s}`},
        ports: [port],
        sessionAffinity: 'None',
      },
      status: {loadBalancer: kind === 'LoadBalancer' ? {ingress: [{ip: ipv4(((203 << 24) + (0 << 16) + (113 << 8) + (s % 250)) >>> 0), ipMode: 'VIP'}]} : {}},
    })
    const eps = endpointsByApp[s] ?? []
    for (let k = 0; k * SLICE_MAX < Math.max(eps.length, 1); k++) {
      out.push(endpointSlice(ns, `${name}-${suffix(5)}`, name, eps.slice(k * SLICE_MAX, (k + 1) * SLICE_MAX), {name: 'http', port: 8080}))
    }
  }

  // A few policies: default-deny in every 10th namespace, with an allow-same-namespace companion.
  for (let n = 0; n < nsCount; n += 10) {
    const ns = `team-${n}`
    out.push({apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: {name: 'default-deny', namespace: ns}, spec: {podSelector: {}, policyTypes: ['Ingress']}})
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {name: 'allow-same-namespace', namespace: ns},
      spec: {podSelector: {}, policyTypes: ['Ingress'], ingress: [{from: [{podSelector: {}}], ports: [{protocol: 'TCP', port: 'http'}]}]},
    })
  }

  for (const name of ['default', 'kube-system', ...Array.from({length: nsCount}, (_, n) => `team-${n}`)]) {
    out.push({apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels: {'kubernetes.io/metadata.name': name}}, spec: {finalizers: ['kubernetes']}, status: {phase: 'Active'}})
  }
  out.push(...systemObjects(options, nodeNames))
  return out
}

function endpointSlice(
  namespace: string,
  name: string,
  service: string,
  eps: {ip: string; node: string; pod: string; ready: boolean}[],
  port: {name: string; port: number},
): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace,
      labels: {'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io'},
    },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: {ready: e.ready, serving: e.ready, terminating: false},
      nodeName: e.node,
      targetRef: {kind: 'Pod', namespace, name: e.pod},
    })),
    ports: [{...port, protocol: 'TCP'}],
  }
}

function systemObjects(options: GenerateOptions, nodeNames: string[]): unknown[] {
  const cni = options.cni ?? 'calico'
  const images: Record<string, string> = {
    calico: 'docker.io/calico/node:v3.28.2',
    cilium: 'quay.io/cilium/cilium:v1.16.3',
    flannel: 'docker.io/flannel/flannel:v0.25.7',
  }
  const dsName: Record<string, string> = {calico: 'calico-node', cilium: 'cilium', flannel: 'kube-flannel-ds'}
  const cp = nodeNames[0] ?? 'control-plane-0'
  const ds = (name: string, image: string): unknown => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {name, namespace: 'kube-system', labels: {'k8s-app': name}},
    spec: {selector: {matchLabels: {'k8s-app': name}}, template: {metadata: {labels: {'k8s-app': name}}, spec: {hostNetwork: true, containers: [{name, image}]}}},
    status: {desiredNumberScheduled: nodeNames.length, numberReady: nodeNames.length},
  })
  const dns = ['coredns-7c65d6cfc9-2xk4p', 'coredns-7c65d6cfc9-9qzl7']
  const dnsIPs = ['10.128.0.200', '10.128.0.201']
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'kubernetes', namespace: 'default', labels: {component: 'apiserver', provider: 'kubernetes'}},
      spec: {type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ipFamilies: ['IPv4'], ports: [{name: 'https', port: 443, protocol: 'TCP', targetPort: 6443}], sessionAffinity: 'None'},
    },
    endpointSliceRaw('default', 'kubernetes', 'kubernetes', [{addresses: [ipv4(NODE_BASE)], conditions: {ready: true, serving: true, terminating: false}}], {name: 'https', port: 6443}),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {name: 'kube-dns', namespace: 'kube-system', labels: {'k8s-app': 'kube-dns'}},
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ipFamilies: ['IPv4'],
        selector: {'k8s-app': 'kube-dns'},
        ports: [
          {name: 'dns', port: 53, protocol: 'UDP', targetPort: 53},
          {name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53},
        ],
        sessionAffinity: 'None',
      },
    },
    ...dns.map((name, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name, namespace: 'kube-system', labels: {'k8s-app': 'kube-dns'}},
      spec: {nodeName: cp, containers: [{name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3', ports: [{name: 'dns', containerPort: 53, protocol: 'UDP'}, {name: 'dns-tcp', containerPort: 53, protocol: 'TCP'}]}]},
      status: {phase: 'Running', podIP: dnsIPs[i], podIPs: [{ip: dnsIPs[i]}], conditions: [{type: 'Ready', status: 'True'}]},
    })),
    endpointSliceRaw(
      'kube-system',
      'kube-dns-x7k2p',
      'kube-dns',
      dns.map((name, i) => ({addresses: [dnsIPs[i]], conditions: {ready: true, serving: true, terminating: false}, nodeName: cp, targetRef: {kind: 'Pod', namespace: 'kube-system', name}})),
      {name: 'dns', port: 53, protocol: 'UDP'},
    ),
    ds('kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.2'),
    ds(dsName[cni] ?? cni, images[cni] ?? ''),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {name: 'kube-proxy', namespace: 'kube-system', labels: {app: 'kube-proxy'}},
      data: {
        'config.conf': `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: ${POD_CIDR}\nmode: "${options.kubeProxyMode ?? ''}"\n`,
      },
    },
  ]
}

function endpointSliceRaw(namespace: string, name: string, service: string, endpoints: unknown[], port: {name: string; port: number; protocol?: string}): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {name, namespace, labels: {'kubernetes.io/service-name': service}},
    addressType: 'IPv4',
    endpoints,
    ports: [{protocol: 'TCP', ...port}],
  }
}

function uid(kind: number, i: number): string {
  const hex = i.toString(16).padStart(12, '0')
  return `00000000-0000-4000-800${kind}-${hex}`
}
