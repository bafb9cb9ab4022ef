/**
 * Which CNI plugin and whether kube-proxy runs, recognised from DaemonSets (in any namespace:
 * kube-system, kube-flannel, calico-system, …) by name and container image. Names alone are not enough (clusters rename DaemonSets; EKS calls the VPC CNI
 * "aws-node"), images alone neither (mirrored registries), so either may match.
 * Node evidence (/etc/cni/net.d) can confirm or correct this later.
 */
export interface CniDetection {
  /** A known plugin id, or undefined when nothing matched. */
  cni?: CniId
  /** The DaemonSet that matched, and why. */
  evidence?: string
  /** A kube-proxy DaemonSet exists. */
  kubeProxy: boolean
  /** Every plugin that matched, for clusters running two (e.g. multus over calico, cilium chaining). */
  matches: {cni: CniId; daemonSet: string; namespace: string}[]
}

export type CniId =
  | 'cilium'
  | 'calico'
  | 'flannel'
  | 'weave'
  | 'kube-router'
  | 'antrea'
  | 'kube-ovn'
  | 'aws-vpc-cni'
  | 'azure-cni'
  | 'gke-netd'
  | 'kindnet'
  | 'canal'
  | 'multus'
  | 'ovn-kubernetes'

interface Signature {
  cni: CniId
  names: RegExp
  images: RegExp
}

// Order matters: canal (calico+flannel) before both; multus is a meta-plugin, reported last.
const SIGNATURES: readonly Signature[] = [
  {cni: 'canal', names: /^canal$/, images: /\/canal[:@]/},
  {cni: 'cilium', names: /^cilium$/, images: /\/cilium\/cilium[:@]|cilium\/cilium-agent|\/cilium[:@]/},
  {cni: 'calico', names: /^calico-node$/, images: /calico\/node[:@]|\/calico-node[:@]/},
  {cni: 'flannel', names: /^(kube-)?flannel(-ds)?(-amd64|-arm64)?$/, images: /flannel(-io)?\/flannel[:@]|\/flannel[:@]/},
  {cni: 'weave', names: /^weave-net$/, images: /weaveworks\/weave-kube[:@]|\/weave-kube[:@]/},
  {cni: 'kube-router', names: /^kube-router$/, images: /kube-router[:@]/},
  {cni: 'antrea', names: /^antrea-agent$/, images: /antrea\/antrea-(agent|controller)?-?ubuntu[:@]|\/antrea-agent/},
  {cni: 'kube-ovn', names: /^kube-ovn-cni$/, images: /kube-ovn[:@]/},
  {cni: 'ovn-kubernetes', names: /^ovnkube-node$/, images: /ovn-kubernetes|ovn-daemonset/},
  {cni: 'aws-vpc-cni', names: /^aws-node$/, images: /amazon-k8s-cni[:@]/},
  {cni: 'azure-cni', names: /^azure-cns$|^azure-vnet/, images: /azure-cns[:@]|azure-vnet/},
  {cni: 'gke-netd', names: /^netd$/, images: /gke-release\/netd|netd-amd64/},
  {cni: 'kindnet', names: /^kindnet$/, images: /kindnetd[:@]/},
  {cni: 'multus', names: /^(kube-)?multus(-ds)?(-amd64)?$/, images: /multus-cni[:@]/},
]

interface DaemonSetLike {
  metadata?: {name?: unknown; namespace?: unknown}
  spec?: {template?: {spec?: {containers?: {image?: unknown}[]; initContainers?: {image?: unknown}[]}}}
}

export function detectCni(daemonSets: readonly unknown[]): CniDetection {
  const matches: CniDetection['matches'] = []
  let kubeProxy = false
  for (const raw of daemonSets) {
    const ds = (raw ?? {}) as DaemonSetLike
    const name = typeof ds.metadata?.name === 'string' ? ds.metadata.name : ''
    const namespace = typeof ds.metadata?.namespace === 'string' ? ds.metadata.namespace : ''
    const podSpec = ds.spec?.template?.spec
    // A hand-edited or broken object may hold anything where the lists should be.
    const list = (v: unknown): {image?: unknown}[] => (Array.isArray(v) ? v : [])
    const images = [...list(podSpec?.containers), ...list(podSpec?.initContainers)]
      .map((c) => (typeof c?.image === 'string' ? c.image : ''))
      .filter(Boolean)
    if (name === 'kube-proxy' || images.some((i) => /\/kube-proxy[:@]/.test(i))) kubeProxy = true
    for (const sig of SIGNATURES) {
      const byName = sig.names.test(name)
      const image = images.find((i) => sig.images.test(i))
      if (!byName && !image) continue
      if (!matches.some((m) => m.cni === sig.cni)) {
        matches.push({cni: sig.cni, daemonSet: name, namespace})
      }
      break
    }
  }
  // A meta-plugin (multus) delegates to the real one; report the delegate when there is one.
  const primary = matches.find((m) => m.cni !== 'multus') ?? matches[0]
  const evidence = primary ? `DaemonSet ${primary.namespace}/${primary.daemonSet}` : undefined
  return {cni: primary?.cni, evidence, kubeProxy, matches}
}
