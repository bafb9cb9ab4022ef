import {arr, byKey, meta, rec, str, strings, type ModelProblem} from './read.js'

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
}

export function buildNodes(raw: readonly unknown[], problems: ModelProblem[]): NodeModel[] {
  const out: NodeModel[] = []
  raw.forEach((obj, i) => {
    const m = meta(obj)
    if (!m) return void problems.push({subject: `nodes[${i}]`, message: 'node without metadata.name ignored'})
    const spec = rec(rec(obj).spec)
    const status = rec(rec(obj).status)
    const addresses = arr(status.addresses)
      .map((a) => ({type: str(rec(a).type) ?? '', address: str(rec(a).address) ?? ''}))
      .filter((a) => a.address !== '')
    const podCIDRs = strings(spec.podCIDRs)
    const single = str(spec.podCIDR)
    if (podCIDRs.length === 0 && single) podCIDRs.push(single)
    const readyCondition = arr(status.conditions).map(rec).find((c) => c.type === 'Ready')
    const readyStatus = str(readyCondition?.status)
    const taints = arr(spec.taints).map((t) => {
      const r = rec(t)
      const value = str(r.value)
      return {key: str(r.key) ?? '', ...(value ? {value} : {}), effect: str(r.effect) ?? ''}
    })
    const providerID = str(spec.providerID)
    out.push({
      name: m.name,
      namespace: '',
      labels: m.labels,
      addresses,
      internalIPs: addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address),
      podCIDRs,
      ready: readyStatus === 'True' || readyStatus === 'False' ? readyStatus : 'Unknown',
      taints,
      ...(providerID ? {providerID} : {}),
      unschedulable: spec.unschedulable === true,
    })
  })
  return out.sort(byKey)
}
