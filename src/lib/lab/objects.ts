/**
 * The Kubernetes objects a lab's API server serves, as plain data derived from the plan: what the
 * cluster would say about itself. Trace and doctor read these and compare them with what the
 * namespaces really do, so they must describe the lab exactly (same IPs, ports, nodes).
 */
import type {KubeProxyModel} from './kube-proxy-rules.js'
import type {Family, LabPlan, NodePlan, PodPlan, ServicePlan} from './plan.js'

const FAMILY_NAME = {4: 'IPv4', 6: 'IPv6'} as const

/** Values in the order of the lab's families (primary first), skipping a family that has none. */
function byFamily(families: Family[], v4: string | undefined, v6: string | undefined): string[] {
  return families.flatMap((f) => {
    const v = f === 6 ? v6 : v4
    return v === undefined ? [] : [v]
  })
}

export type KubeObject = Record<string, unknown> & {apiVersion: string; kind: string}

// A fixed creation time keeps the objects (and snapshots of the lab) deterministic.
const CREATED = '2026-01-01T00:00:00Z'

/** Deterministic, UID-shaped: the lab's objects never change between runs of the same plan. */
function uid(kind: string, key: string): string {
  let h = 2166136261
  for (const ch of `${kind}/${key}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0
  const a = h.toString(16).padStart(8, '0')
  return `${a}-0000-4000-8000-${a}${a.slice(0, 4)}`
}

function meta(kind: string, name: string, namespace?: string, labels?: Record<string, string>): Record<string, unknown> {
  return {
    name,
    ...(namespace === undefined ? {} : {namespace}),
    uid: uid(kind, `${namespace ?? ''}/${name}`),
    creationTimestamp: CREATED,
    ...(labels === undefined ? {} : {labels: {...labels}}),
  }
}

export function nodeObject(node: NodePlan, families: Family[] = [4]): KubeObject {
  const annotations: Record<string, string> = {}
  if (node.ipamBlock && node.vxlan) {
    // What calico-node writes on each node: its address (with the prefix) and its VXLAN tunnel address.
    annotations['projectcalico.org/IPv4Address'] = `${node.underlayIp}/24`
    annotations['projectcalico.org/IPv4VXLANTunnelAddr'] = node.vxlan.ip
  } else if (node.vxlan) {
    // What flannel writes on each node, so a reader can find every VTEP from the API alone.
    annotations['flannel.alpha.coreos.com/backend-type'] = 'vxlan'
    annotations['flannel.alpha.coreos.com/backend-data'] = JSON.stringify({VNI: node.vxlan.vni, VtepMAC: node.vxlan.mac})
    annotations['flannel.alpha.coreos.com/public-ip'] = node.underlayIp
  }
  if (node.v6?.vxlan) {
    // flannel's IPv6 VTEP, as it annotates a dual-stack (or IPv6-only) node.
    annotations['flannel.alpha.coreos.com/backend-type'] = 'vxlan'
    annotations['flannel.alpha.coreos.com/backend-v6-data'] = JSON.stringify({VNI: node.v6.vxlan.vni, VtepMAC: node.v6.vxlan.mac})
    annotations['flannel.alpha.coreos.com/public-ipv6'] = node.v6.underlayIp
  }
  const podCIDRs = byFamily(families, node.podCIDR, node.v6?.podCIDR)
  const internal = byFamily(families, node.underlayIp, node.v6?.underlayIp)
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {...meta('Node', node.name, undefined, {'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux'}), annotations},
    // The AWS VPC CNI gives pods VPC addresses: its nodes have no pod CIDR.
    spec: node.aws ? {} : {podCIDR: podCIDRs[0], podCIDRs},
    status: {
      addresses: [...internal.map((address) => ({type: 'InternalIP', address})), {type: 'Hostname', address: node.name}],
      conditions: [{type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: CREATED}],
      nodeInfo: {kubeProxyVersion: 'v1.30.0', kubeletVersion: 'v1.30.0', operatingSystem: 'linux', architecture: 'amd64'},
    },
  }
}

export function podObject(pod: PodPlan, node: NodePlan, families: Family[] = [4]): KubeObject {
  const podIPs = byFamily(families, pod.ip, pod.ip6)
  const hostIPs = byFamily(families, node.underlayIp, node.v6?.underlayIp)
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('Pod', pod.name, pod.namespace, pod.labels),
    spec: {
      nodeName: pod.node,
      containers: [
        {
          name: 'responder',
          image: 'knet/lab-responder',
          ports: pod.ports.map((p) => ({name: p.name, containerPort: p.port, protocol: p.protocol})),
        },
      ],
    },
    status: {
      phase: 'Running',
      hostIP: hostIPs[0],
      hostIPs: hostIPs.map((ip) => ({ip})),
      podIP: podIPs[0],
      podIPs: podIPs.map((ip) => ({ip})),
      conditions: [{type: 'Ready', status: 'True'}],
      startTime: CREATED,
    },
  }
}

export function serviceObject(svc: ServicePlan, families: Family[] = [4]): KubeObject {
  const clusterIPs = byFamily(families, svc.clusterIP, svc.clusterIP6)
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('Service', svc.name, svc.namespace),
    spec: {
      type: svc.type,
      clusterIP: clusterIPs[0],
      clusterIPs,
      ipFamilies: families.map((f) => FAMILY_NAME[f]),
      ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
      ...(Object.keys(svc.selector).length > 0 ? {selector: {...svc.selector}} : {}),
      ports: svc.ports.map((p) => ({
        name: p.name,
        port: p.port,
        protocol: p.protocol,
        targetPort: p.targetPortName,
        ...(p.nodePort === undefined ? {} : {nodePort: p.nodePort}),
      })),
      ...(svc.type === 'NodePort' ? {externalTrafficPolicy: 'Cluster'} : {}),
      sessionAffinity: 'None',
    },
    status: {loadBalancer: {}},
  }
}

/** One slice per family, as the controller writes them: IPv4's keeps its name, IPv6's is NAME-lab6. */
export function endpointSliceObject(svc: ServicePlan, plan: LabPlan, family: Family = 4): KubeObject {
  const sliceName = family === 6 ? `${svc.name}-lab6` : `${svc.name}-lab`
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      ...meta('EndpointSlice', sliceName, svc.namespace, {'kubernetes.io/service-name': svc.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io'}),
      ownerReferences: [{apiVersion: 'v1', kind: 'Service', name: svc.name, uid: uid('Service', `${svc.namespace}/${svc.name}`), controller: true}],
    },
    addressType: FAMILY_NAME[family],
    // An empty Service still has a slice with endpoints: [] (what the controller writes).
    endpoints: svc.endpoints.flatMap((ep) => {
      const pod = plan.pods.find((p) => p.name === ep.pod)
      const address = family === 6 ? ep.ip6 : ep.ip
      if (address === undefined) return []
      return {
        addresses: [address],
        conditions: {ready: true, serving: true, terminating: false},
        nodeName: ep.node,
        targetRef: {kind: 'Pod', namespace: pod?.namespace ?? svc.namespace, name: ep.pod, uid: uid('Pod', `${pod?.namespace ?? svc.namespace}/${ep.pod}`)},
      }
    }),
    ports: svc.ports.map((p) => ({name: p.name, port: p.targetPort, protocol: p.protocol})),
  }
}

/** What kube-apiserver writes from --service-cluster-ip-range (Kubernetes 1.33+): the plan's Service range. */
export function serviceCIDRObject(plan: LabPlan): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'ServiceCIDR',
    metadata: meta('ServiceCIDR', 'kubernetes'),
    spec: {cidrs: byFamily(plan.ipFamilies, plan.serviceCIDR, plan.serviceCIDR6)},
    status: {conditions: [{type: 'Ready', status: 'True', reason: '', message: 'Kubernetes Service CIDR is ready', lastTransitionTime: CREATED}]},
  }
}

export function kubeProxyConfigMap(plan: LabPlan): KubeObject {
  // aws-vpc: pods are VPC addresses, and EKS's kube-proxy has no clusterCIDR (pod traffic to Services is not masqueraded).
  const cidrs = plan.params.topology === 'aws-vpc' ? '' : byFamily(plan.ipFamilies, plan.clusterCIDR, plan.clusterCIDR6).join(',')
  const config = ['apiVersion: kubeproxy.config.k8s.io/v1alpha1', 'kind: KubeProxyConfiguration', 'mode: iptables', `clusterCIDR: ${cidrs}`, ''].join('\n')
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('ConfigMap', 'kube-proxy', 'kube-system', {app: 'kube-proxy'}),
    data: {'config.conf': config},
  }
}

function daemonSet(name: string, namespace: string, image: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta('DaemonSet', name, namespace, labels),
    spec: {
      selector: {matchLabels: labels},
      template: {metadata: {labels}, spec: {hostNetwork: true, containers: [{name, image}]}},
    },
  }
}

/**
 * The lab plays flannel (backend vxlan or host-gw, both real flannel backends), kindnet (ptp) or Calico (calico-vxlan) and kube-proxy in
 * iptables mode; their DaemonSets and flannel's net-conf are how a reader recognises that.
 */
export function componentObjects(plan: LabPlan): KubeObject[] {
  // Calico (manifest install): calico-node in kube-system, its IP pool in VXLAN mode.
  if (plan.params.topology === 'calico-vxlan') {
    return [
      daemonSet('kube-proxy', 'kube-system', 'registry.k8s.io/kube-proxy:v1.30.0', {'k8s-app': 'kube-proxy'}),
      daemonSet('calico-node', 'kube-system', 'docker.io/calico/node:v3.28.0', {'k8s-app': 'calico-node'}),
    ]
  }
  // aws-vpc: the VPC CNI's aws-node DaemonSet (EKS's add-on).
  if (plan.params.topology === 'aws-vpc') {
    return [
      daemonSet('kube-proxy', 'kube-system', 'registry.k8s.io/kube-proxy:v1.30.0', {'k8s-app': 'kube-proxy'}),
      daemonSet('aws-node', 'kube-system', '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3', {'k8s-app': 'aws-node'}),
    ]
  }
  // ptp is kindnet's layout (kind's default CNI): its DaemonSet, and no flannel.
  if (plan.params.topology === 'ptp') {
    return [
      daemonSet('kube-proxy', 'kube-system', 'registry.k8s.io/kube-proxy:v1.30.0', {'k8s-app': 'kube-proxy'}),
      daemonSet('kindnet', 'kube-system', 'docker.io/kindest/kindnetd:v20240513-cd2ac642', {app: 'kindnet', 'k8s-app': 'kindnet'}),
    ]
  }
  const v4 = plan.ipFamilies.includes(4)
  const v6 = plan.clusterCIDR6 !== undefined && plan.ipFamilies.includes(6)
  // flannel's net-conf.json: EnableIPv4 (default true) / EnableIPv6 with IPv6Network.
  const netConf = {...(v4 ? {Network: plan.clusterCIDR} : {EnableIPv4: false}), ...(v6 ? {EnableIPv6: true, IPv6Network: plan.clusterCIDR6} : {}), Backend: plan.params.topology === 'vxlan' ? {Type: 'vxlan', VNI: 1, Port: 8472} : {Type: 'host-gw'}}
  return [
    daemonSet('kube-proxy', 'kube-system', 'registry.k8s.io/kube-proxy:v1.30.0', {'k8s-app': 'kube-proxy'}),
    daemonSet('kube-flannel-ds', 'kube-flannel', 'docker.io/flannel/flannel:v0.25.1', {app: 'flannel', 'k8s-app': 'flannel'}),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('ConfigMap', 'kube-flannel-cfg', 'kube-flannel', {app: 'flannel'}),
      data: {'net-conf.json': `${JSON.stringify(netConf, null, 2)}\n`},
    },
  ]
}

/**
 * calico-vxlan: the IPAMBlock each node holds (crd.projectcalico.org/v1, as Calico IPAM writes them):
 * named after the block, host affinity, and its allocations — the first address to the node's
 * vxlan.calico (the tunnel address), then one per pod, indexes into attributes.
 */
export function calicoIpamBlocks(plan: LabPlan): KubeObject[] {
  return plan.nodes.flatMap((node): KubeObject[] => {
    const [base, prefix] = (node.ipamBlock ?? '').split('/')
    if (base === undefined || prefix === undefined) return []
    const first = Number(base.split('.').at(-1))
    const size = 2 ** (32 - Number(prefix))
    const pods = plan.pods.filter((p) => p.node === node.name)
    const attributes: Record<string, unknown>[] = [{handle_id: `vxlan-tunnel-addr-${node.name}`, secondary: {node: node.name, type: 'vxlanTunnelAddress'}}]
    const allocations: (number | null)[] = Array.from({length: size}, () => null)
    if (node.vxlan) allocations[Number(node.vxlan.ip.split('.').at(-1)) - first] = 0
    for (const pod of pods) {
      allocations[Number(pod.ip.split('.').at(-1)) - first] = attributes.length
      attributes.push({handle_id: `k8s-pod-network.${uid('Pod', `${pod.namespace}/${pod.name}`).replaceAll('-', '')}`, secondary: {namespace: pod.namespace, node: node.name, pod: pod.name, timestamp: CREATED}})
    }
    return [
      {
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'IPAMBlock',
        metadata: meta('IPAMBlock', (node.ipamBlock ?? '').replaceAll(/[./]/g, '-')),
        spec: {
          cidr: node.ipamBlock,
          affinity: `host:${node.name}`,
          strictAffinity: false,
          deleted: false,
          allocations,
          unallocated: allocations.flatMap((a, i) => (a === null ? [i] : [])),
          attributes,
        },
      },
    ]
  })
}

/** Every object of the lab: Namespaces, Nodes, Pods, Services, EndpointSlices, the kube-proxy ConfigMap, the ServiceCIDR, DaemonSets, Calico's IPAMBlocks. */
export function labObjects(plan: LabPlan): KubeObject[] {
  const nodeByName = new Map(plan.nodes.map((n) => [n.name, n]))
  const flannel = plan.params.topology === 'host-gw' || plan.params.topology === 'vxlan'
  const namespaces = ['default', 'kube-system', ...(flannel ? ['kube-flannel'] : [])].map((name): KubeObject => ({apiVersion: 'v1', kind: 'Namespace', metadata: meta('Namespace', name), status: {phase: 'Active'}}))
  return [
    ...namespaces,
    ...plan.nodes.map((node) => nodeObject(node, plan.ipFamilies)),
    ...plan.pods.map((pod) => podObject(pod, nodeByName.get(pod.node) as NodePlan, plan.ipFamilies)),
    ...plan.services.map((svc) => serviceObject(svc, plan.ipFamilies)),
    ...plan.ipFamilies.flatMap((family) => plan.services.map((svc) => endpointSliceObject(svc, plan, family))),
    kubeProxyConfigMap(plan),
    serviceCIDRObject(plan),
    ...componentObjects(plan),
    ...(plan.params.topology === 'calico-vxlan' ? calicoIpamBlocks(plan) : []),
  ]
}

/** What kube-proxy on `node` would be programming for the plan's Services (its IPv6 proxier: family 6). */
export function kubeProxyModelFor(plan: LabPlan, node: NodePlan, family: Family = 4): KubeProxyModel {
  const v6 = family === 6
  return {
    ...(plan.params.topology === 'aws-vpc' ? {} : {clusterCIDR: v6 ? plan.clusterCIDR6 : plan.clusterCIDR}),
    nodeName: node.name,
    ipFamily: family,
    services: plan.services.map((svc) => ({
      namespace: svc.namespace,
      name: svc.name,
      clusterIP: (v6 ? svc.clusterIP6 : svc.clusterIP) ?? svc.clusterIP,
      ports: svc.ports.map((p) => ({name: p.name, port: p.port, protocol: p.protocol, targetPort: p.targetPort, ...(p.nodePort === undefined ? {} : {nodePort: p.nodePort})})),
      ...(svc.type === 'NodePort' ? {externalTrafficPolicy: 'Cluster' as const} : {}),
      endpoints: svc.endpoints.flatMap((ep) => {
        const ip = v6 ? ep.ip6 : ep.ip
        return ip === undefined ? [] : [{ip, ready: true, nodeName: ep.node}]
      }),
    })),
  }
}
