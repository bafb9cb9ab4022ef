import {calicoNodeAddresses, type CalicoNodeAddresses} from './calico-annotations.js'
import {arr, buildEach, defined, ipText, meta, rec, str, strings, type ModelProblem} from './read.js'

export interface NodeAddress {
  type: string
  address: string
}

export interface Taint {
  key: string
  value?: string
  effect: string
}

export interface NodeModel {
  name: string
  namespace: ''
  labels: Record<string, string>
  addresses: NodeAddress[]
  /** InternalIP addresses, the ones pod traffic to a node normally uses. */
  internalIPs: string[]
  /** spec.podCIDRs, falling back to the single spec.podCIDR of older servers. Empty with VPC-style CNIs. */
  podCIDRs: string[]
  /** The Ready condition's status; Unknown when the kubelet stopped reporting or there is no condition. */
  ready: 'True' | 'False' | 'Unknown'
  taints: Taint[]
  providerID?: string
  unschedulable: boolean
  /**
   * The backend flanneld announced on the Node (annotation flannel.alpha.coreos.com/backend-type):
   * flannel's own mark, there whether it runs as a DaemonSet, embedded (k3s) or as a host service.
   */
  flannelBackend?: string
  /** calico-node's projectcalico.org/IPv4Address, IPv4VXLANTunnelAddr (and IPv6) annotations, when set. */
  calico?: CalicoNodeAddresses
}

/** The annotation flanneld writes on its Node. */
export const FLANNEL_BACKEND_ANNOTATION = 'flannel.alpha.coreos.com/backend-type'

export function buildNodes(raw: unknown[], problems: ModelProblem[], release = false): NodeModel[] {
  return buildEach(raw, (obj, i) => nodeOf(obj, i, problems), release)
}

function nodeOf(obj: unknown, i: number, problems: ModelProblem[]): NodeModel | undefined {
  const m = meta(obj)
  if (!m) return void problems.push({subject: `nodes[${i}]`, message: 'node without metadata.name ignored'})
  const spec = rec(rec(obj).spec)
  const status = rec(rec(obj).status)
  const addresses = defined(
    arr(status.addresses).map((a) => {
      const address = str(rec(a).address) ?? ''
      return address === '' ? undefined : {type: str(rec(a).type) ?? '', address: ipText(address)}
    }),
  )
  const listed = strings(spec.podCIDRs)
  const single = str(spec.podCIDR)
  const podCIDRs = listed.length === 0 && single ? [single] : listed
  const readyCondition = arr(status.conditions).map(rec).find((c) => c.type === 'Ready')
  const readyStatus = str(readyCondition?.status)
  const taints = arr(spec.taints).map((t) => {
    const r = rec(t)
    const value = str(r.value)
    return {key: str(r.key) ?? '', ...(value ? {value} : {}), effect: str(r.effect) ?? ''}
  })
  const providerID = str(spec.providerID)
  const flannelBackend = str(rec(rec(rec(obj).metadata).annotations)[FLANNEL_BACKEND_ANNOTATION])
  const calico = calicoNodeAddresses(rec(obj).metadata)
  return {
    name: m.name,
    namespace: '',
    labels: m.labels,
    addresses,
    internalIPs: defined(addresses.map((a) => (a.type === 'InternalIP' ? a.address : undefined))),
    podCIDRs,
    ready: readyStatus === 'True' || readyStatus === 'False' ? readyStatus : 'Unknown',
    taints,
    ...(providerID ? {providerID} : {}),
    unschedulable: spec.unschedulable === true,
    ...(flannelBackend ? {flannelBackend} : {}),
    ...(calico ? {calico} : {}),
  }
}
