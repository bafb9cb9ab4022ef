/** What `lab up` hands the hollow kubelet process (kubelet.json in the lab's directory). */
import type {CniConflist} from './cni.js'

export interface HollowKubeletConfig {
  marker: string
  dir: string
  binDir: string
  kubeconfig: string
  responderScript: string
  /** In registration order: KCM's node IPAM then hands out pod CIDRs in this order. */
  nodes: {name: string; netns: string; internalIP: string; conflist: CniConflist}[]
  leaseRenewSeconds: number
  statusUpdateSeconds: number
}
