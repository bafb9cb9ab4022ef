/**
 * What the hollow kubelet writes to the API (pure): the Node it registers, the Lease it renews,
 * and the pod status it patches once the CNI chain has wired a pod and its responder listens —
 * the fields the scheduler (Ready, allocatable pods, no taints), the node-lifecycle controller
 * (Lease renewals) and the EndpointSlice controller (podIPs, Ready=True, nodeName) act on.
 */
export const LEASE_DURATION_SECONDS = 40
export const HOLLOW_KUBELET_VERSION = 'v0.0.0-knet-hollow'

export interface NodeRegistration {
  name: string
  internalIP: string
  /** The node's IPv6 address on a dual-stack lab: a second InternalIP, as a dual-stack kubelet registers (--node-ip=V4,V6). */
  internalIP6?: string
}

export function nodeManifest(node: NodeRegistration, now: string): Record<string, unknown> {
  const resources = {cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '20Gi'}
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {name: node.name, labels: {'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64'}},
    spec: {},
    status: {
      addresses: [
        {type: 'InternalIP', address: node.internalIP},
        ...(node.internalIP6 ? [{type: 'InternalIP', address: node.internalIP6}] : []),
        {type: 'Hostname', address: node.name},
      ],
      capacity: resources,
      allocatable: resources,
      conditions: nodeConditions(now),
      daemonEndpoints: {kubeletEndpoint: {Port: 0}},
      nodeInfo: {
        machineID: node.name,
        systemUUID: node.name,
        bootID: node.name,
        kernelVersion: '',
        osImage: 'knet lab',
        containerRuntimeVersion: 'knet://lab',
        kubeletVersion: HOLLOW_KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  }
}

export function nodeConditions(now: string): Record<string, string>[] {
  const c = (type: string, status: string, reason: string, message: string): Record<string, string> => ({type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now})
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'hollow kubelet'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'hollow kubelet'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'hollow kubelet'),
    c('Ready', 'True', 'KubeletReady', 'knet lab hollow kubelet is posting ready status'),
  ]
}

/** RFC 3339 with microseconds: what a Lease's MicroTime fields take. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

export function leaseManifest(node: string, nodeUid: string | undefined, now: Date): Record<string, unknown> {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node,
      namespace: 'kube-node-lease',
      ...(nodeUid ? {ownerReferences: [{apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUid}]} : {}),
    },
    spec: {holderIdentity: node, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(now)},
  }
}

export interface RunningPod {
  hostIP: string
  hostIP6?: string
  podIP: string
  /** The second family's address (dual-stack), listed after podIP in podIPs as the kubelet does. */
  podIP6?: string
  /** The responder's pid: the "container". */
  pid: number
  containers: {name: string; image: string}[]
  startedAt: string
}

/** A merge patch for pods/status: Running and Ready, with the IP the CNI chain configured. */
export function podRunningPatch(p: RunningPod): Record<string, unknown> {
  const cond = (type: string): Record<string, string> => ({type, status: 'True', lastTransitionTime: p.startedAt})
  return {
    status: {
      phase: 'Running',
      hostIP: p.hostIP,
      hostIPs: [p.hostIP, p.hostIP6].flatMap((ip) => (ip ? [{ip}] : [])),
      podIP: p.podIP,
      podIPs: [p.podIP, p.podIP6].flatMap((ip) => (ip ? [{ip}] : [])),
      startTime: p.startedAt,
      conditions: ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled'].map(cond),
      containerStatuses: p.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        containerID: `knet://${p.pid}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: {running: {startedAt: p.startedAt}},
      })),
    },
  }
}

/** The pid a running pod's first container carries (containerID knet://PID), if any. */
export function responderPid(pod: {status?: {containerStatuses?: {containerID?: string}[]}}): number | undefined {
  const id = pod.status?.containerStatuses?.[0]?.containerID
  const m = id ? /^knet:\/\/(\d+)$/.exec(id) : null
  return m ? Number(m[1]) : undefined
}
