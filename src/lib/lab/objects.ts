/**
 * The Kubernetes objects a lab's API server serves, as plain data derived from the plan: what the
 * cluster would say about itself. Trace and doctor read these and compare them with what the
 * namespaces really do, so they must describe the lab exactly (same IPs, ports, nodes).
 */
import type {KubeProxyModel} from './kube-proxy-rules.js'
import type {LabPlan, NodePlan, PodPlan, ServicePlan} from './plan.js'

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

export function nodeObject(node: NodePlan): KubeObject {
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
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {...meta('Node', node.name, undefined, {'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux'}), annotations},
    spec: {podCIDR: node.podCIDR, podCIDRs: [node.podCIDR]},
    status: {
      addresses: [
        {type: 'InternalIP', address: node.underlayIp},
        {type: 'Hostname', address: node.name},
      ],
      conditions: [{type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: CREATED}],
      nodeInfo: {kubeProxyVersion: 'v1.30.0', kubeletVersion: 'v1.30.0', operatingSystem: 'linux', architecture: 'amd64'},
    },
  }
}

export function podObject(pod: PodPlan, node: NodePlan): KubeObject {
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
      hostIP: node.underlayIp,
      hostIPs: [{ip: node.underlayIp}],
      podIP: pod.ip,
      podIPs: [{ip: pod.ip}],
      conditions: [{type: 'Ready', status: 'True'}],
      startTime: CREATED,
    },
  }
}

export function serviceObject(svc: ServicePlan): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('Service', svc.name, svc.namespace),
    spec: {
      type: svc.type,
      clusterIP: svc.clusterIP,
      clusterIPs: [svc.clusterIP],
      ipFamilies: ['IPv4'],
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

export function endpointSliceObject(svc: ServicePlan, plan: LabPlan): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      ...meta('EndpointSlice', `${svc.name}-lab`, svc.namespace, {'kubernetes.io/service-name': svc.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io'}),
      ownerReferences: [{apiVersion: 'v1', kind: 'Service', name: svc.name, uid: uid('Service', `${svc.namespace}/${svc.name}`), controller: true}],
    },
    addressType: 'IPv4',
    // An empty Service still has a slice with endpoints: [] (what the controller writes).
    endpoints: svc.endpoints.map((ep) => {
      const pod = plan.pods.find((p) => p.name === ep.pod)
      return {
        addresses: [ep.ip],
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
    spec: {cidrs: [plan.serviceCIDR]},
    status: {conditions: [{type: 'Ready', status: 'True', reason: '', message: 'Kubernetes Service CIDR is ready', lastTransitionTime: CREATED}]},
  }
}

export function kubeProxyConfigMap(plan: LabPlan): KubeObject {
  const config = ['apiVersion: kubeproxy.config.k8s.io/v1alpha1', 'kind: KubeProxyConfiguration', 'mode: iptables', `clusterCIDR: ${plan.clusterCIDR}`, ''].join('\n')
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
  // ptp is kindnet's layout (kind's default CNI): its DaemonSet, and no flannel.
  if (plan.params.topology === 'ptp') {
    return [
      daemonSet('kube-proxy', 'kube-system', 'registry.k8s.io/kube-proxy:v1.30.0', {'k8s-app': 'kube-proxy'}),
      daemonSet('kindnet', 'kube-system', 'docker.io/kindest/kindnetd:v20240513-cd2ac642', {app: 'kindnet', 'k8s-app': 'kindnet'}),
    ]
  }
  const netConf = {Network: plan.clusterCIDR, Backend: plan.params.topology === 'vxlan' ? {Type: 'vxlan', VNI: 1, Port: 8472} : {Type: 'host-gw'}}
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

/** Every object of the lab: Namespaces, Nodes, Pods, Services, EndpointSlices, the kube-proxy ConfigMap, the ServiceCIDR, DaemonSets. */
export function labObjects(plan: LabPlan): KubeObject[] {
  const nodeByName = new Map(plan.nodes.map((n) => [n.name, n]))
  const flannel = plan.params.topology === 'host-gw' || plan.params.topology === 'vxlan'
  const namespaces = ['default', 'kube-system', ...(flannel ? ['kube-flannel'] : [])].map((name): KubeObject => ({apiVersion: 'v1', kind: 'Namespace', metadata: meta('Namespace', name), status: {phase: 'Active'}}))
  return [
    ...namespaces,
    ...plan.nodes.map(nodeObject),
    ...plan.pods.map((pod) => podObject(pod, nodeByName.get(pod.node) as NodePlan)),
    ...plan.services.map(serviceObject),
    ...plan.services.map((svc) => endpointSliceObject(svc, plan)),
    kubeProxyConfigMap(plan),
    serviceCIDRObject(plan),
    ...componentObjects(plan),
  ]
}

/** What kube-proxy on `node` would be programming for the plan's Services. */
export function kubeProxyModelFor(plan: LabPlan, node: NodePlan): KubeProxyModel {
  return {
    clusterCIDR: plan.clusterCIDR,
    nodeName: node.name,
    services: plan.services.map((svc) => ({
      namespace: svc.namespace,
      name: svc.name,
      clusterIP: svc.clusterIP,
      ports: svc.ports.map((p) => ({name: p.name, port: p.port, protocol: p.protocol, targetPort: p.targetPort, ...(p.nodePort === undefined ? {} : {nodePort: p.nodePort})})),
      ...(svc.type === 'NodePort' ? {externalTrafficPolicy: 'Cluster' as const} : {}),
      endpoints: svc.endpoints.map((ep) => ({ip: ep.ip, ready: true, nodeName: ep.node})),
    })),
  }
}
