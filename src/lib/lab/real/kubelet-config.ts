/** What `lab up` hands the hollow kubelet process (kubelet.json in the lab's directory). */
import type {CniConflist} from './cni.js'

export interface HollowKubeletConfig {
  marker: string
  dir: string
  binDir: string
  kubeconfig: string
  responderScript: string
  /** In registration order: KCM's node IPAM then hands out pod CIDRs in this order. */
  nodes: HollowKubeletNode[]
  leaseRenewSeconds: number
  statusUpdateSeconds: number
}

/**
 * A node's CNI network: `conflist` when known at start (flannel's, which reads its subnet at ADD),
 * else `conflistFile`, read at each pod's ADD as a runtime reads /etc/cni/net.d — written once the
 * node has its pod CIDR (kindnetd's ptp conflist).
 */
export interface HollowKubeletNode {
  name: string
  netns: string
  internalIP: string
  internalIP6?: string
  conflist?: CniConflist
  conflistFile?: string
}
