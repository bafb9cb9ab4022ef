/**
 * The API objects a real lab creates (pure): what kube-flannel.yml and kubeadm would have put in
 * the cluster, and the lab's workload — plain Pods pinned by nodeSelector to the plan's node (the
 * real scheduler binds them) and the plan's Services with their fixed ClusterIPs. EndpointSlices
 * are not created here: the real EndpointSlice controller writes them.
 */
import type {LabPlan, NodePlan, PodPlan, ServicePlan} from '../plan.js'

export type Manifest = Record<string, unknown> & {apiVersion: string; kind: string; metadata: {name: string; namespace?: string; [k: string]: unknown}}

/** The pod annotation naming the namespace the hollow kubelet creates for it (the plan's). */
export const NETNS_ANNOTATION = 'lab.knet.dev/netns'
export const FLANNEL_NAMESPACE = 'kube-flannel'

/** flannel's ClusterRole as kube-flannel.yml has it, bound to the lab's flannel user. */
export function flannelRbac(user: string): Manifest[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {name: 'flannel'},
      rules: [
        {apiGroups: [''], resources: ['pods'], verbs: ['get']},
        {apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch']},
        {apiGroups: [''], resources: ['nodes/status'], verbs: ['patch']},
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {name: 'flannel'},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flannel'},
      subjects: [{apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user}],
    },
  ]
}

export function namespaceManifest(name: string): Manifest {
  return {apiVersion: 'v1', kind: 'Namespace', metadata: {name}}
}

/** kubeadm's kube-system/kube-proxy ConfigMap and kube-flannel.yml's kube-flannel-cfg. */
export function configMaps(kubeProxyConf: string, netConf: string, cniConf?: Record<string, unknown>): Manifest[] {
  return [
    {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'kube-proxy', namespace: 'kube-system', labels: {app: 'kube-proxy'}}, data: {'config.conf': kubeProxyConf}},
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {name: 'kube-flannel-cfg', namespace: FLANNEL_NAMESPACE, labels: {app: 'flannel', tier: 'node'}},
      // ptp: flanneld only routes between nodes; the CNI network is kindnet's, not flannel's.
      data: {'net-conf.json': netConf, ...(cniConf ? {'cni-conf.json': `${JSON.stringify(cniConf, null, 2)}\n`} : {})},
    },
  ]
}

export function podManifest(pod: PodPlan): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: pod.name, namespace: pod.namespace, labels: {...pod.labels}, annotations: {[NETNS_ANNOTATION]: pod.netns}},
    spec: {
      nodeSelector: {'kubernetes.io/hostname': pod.node},
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'responder',
          image: 'knet/lab-responder',
          ports: pod.ports.map((p) => ({name: p.name, containerPort: p.port, protocol: p.protocol})),
        },
      ],
    },
  }
}

/**
 * A plan Service at its fixed ClusterIP; on a dual-stack lab RequireDualStack with both ClusterIPs
 * (IPv4 first, the apiserver's primary range), so the real EndpointSlice controller writes one
 * slice per family, as on the emulated lab.
 */
export function serviceManifest(svc: ServicePlan): Manifest {
  const dual = svc.clusterIP6 ? {ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], clusterIPs: [svc.clusterIP, svc.clusterIP6]} : {}
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: svc.name, namespace: svc.namespace},
    spec: {
      type: svc.type,
      clusterIP: svc.clusterIP,
      ...dual,
      ...(Object.keys(svc.selector).length > 0 ? {selector: {...svc.selector}} : {}),
      ports: svc.ports.map((p) => ({
        name: p.name,
        port: p.port,
        protocol: p.protocol,
        targetPort: p.targetPortName,
        ...(p.nodePort === undefined ? {} : {nodePort: p.nodePort}),
      })),
    },
  }
}

/** The workload in the order it is created: Services, then Pods in plan order (host-local then hands out the plan's IPs). */
export function workloadManifests(plan: LabPlan): {services: Manifest[]; pods: Manifest[]} {
  return {services: plan.services.map(serviceManifest), pods: plan.pods.map(podManifest)}
}

export type {NodePlan}
