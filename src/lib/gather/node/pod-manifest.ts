/**
 * The pod `--node-access pod` puts on each node: the least that lets the catalogue read the node's
 * datapath. Every field is here for a reason:
 * - nodeName pins it to the node without the scheduler; tolerations {operator: Exists} let it onto
 *   tainted, cordoned and NotReady nodes (those under incident are the interesting ones).
 * - hostNetwork: the catalogue reads the node's network namespace (links, routes, netfilter,
 *   conntrack, /proc/sys/net). hostPID, as the node-access design asks: the pod sees the node's
 *   processes, so a pod's network namespace can be matched to its sandbox process. No SYS_ADMIN:
 *   nothing in the catalogue enters another namespace (no nsenter) today.
 * - capabilities: all dropped, then NET_ADMIN (netfilter, nftables, IPVS and conntrack dumps need
 *   it) and NET_RAW (iptables-legacy opens a raw socket). Not privileged, no SYS_ADMIN.
 * - /etc/cni/net.d and /var/lib/cni from the host, read-only (type Directory: a node without them
 *   is reported, never has them created). /var/lib/cni holds the CNI's own records (host-local
 *   IPAM's reservations, libcni's cached results) that name each pod's host veth; libcni writes it
 *   on every pod's ADD, so a node running pods has it.
 * - command `sleep`, activeDeadlineSeconds and restartPolicy Never: even a knet killed with
 *   SIGKILL leaves a pod that stops by itself (and `knet cleanup` removes it).
 * - no service account token, no service links, small requests: it is a guest on a node in trouble.
 */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY = 'knet'
export const RUN_ID_LABEL = 'knet.dev/run-id'
export const NODE_ANNOTATION = 'knet.dev/node'
export const CONTAINER_NAME = 'knet'
/** Has iproute2, iptables (nft and legacy), nftables, conntrack-tools, ipvsadm and grep. */
export const DEFAULT_IMAGE = 'docker.io/nicolaka/netshoot:v0.13'
export const DEFAULT_DEBUG_NAMESPACE = 'default'

/** Selects every pod knet creates (what `knet cleanup` removes). */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`

export interface NodePodOptions {
  node: string
  namespace: string
  image: string
  runId: string
  /** The pod stops itself after this long, whatever happens to knet. */
  lifetimeSeconds: number
}

/** A pod name from the run id and the node name: DNS-1123, at most 63 characters. */
export function nodePodName(runId: string, node: string, index: number): string {
  const slug = node.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '')
  return `knet-${runId}-${index}${slug ? `-${slug}` : ''}`
}

export function nodePodManifest(name: string, o: NodePodOptions): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace,
      labels: {[MANAGED_BY_LABEL]: MANAGED_BY, [RUN_ID_LABEL]: o.runId, 'app.kubernetes.io/name': 'knet-node'},
      annotations: {[NODE_ANNOTATION]: o.node, 'knet.dev/purpose': 'read-only network evidence for one knet run; deleted when the run ends (knet cleanup removes leftovers)'},
    },
    spec: {
      nodeName: o.node,
      hostNetwork: true,
      hostPID: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: o.lifetimeSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      tolerations: [{operator: 'Exists'}],
      containers: [
        {
          name: CONTAINER_NAME,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', String(o.lifetimeSeconds)],
          securityContext: {runAsUser: 0, privileged: false, allowPrivilegeEscalation: false, capabilities: {drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW']}},
          resources: {requests: {cpu: '10m', memory: '32Mi'}, limits: {memory: '256Mi'}},
          volumeMounts: [
            {name: 'cni-conf', mountPath: '/etc/cni/net.d', readOnly: true},
            {name: 'cni-state', mountPath: '/var/lib/cni', readOnly: true},
          ],
        },
      ],
      volumes: [
        {name: 'cni-conf', hostPath: {path: '/etc/cni/net.d', type: 'Directory'}},
        {name: 'cni-state', hostPath: {path: '/var/lib/cni', type: 'Directory'}},
      ],
    },
  }
}
