/**
 * kube-proxy's IPVS-mode view of Services (virtual servers from ipvsadm, weights as probabilities).
 * Not read yet (issue 15, part 4): nodes in IPVS mode are skipped by the NAT checks, with that reason.
 */
import type {NodeDatapath} from './node.js'
import type {KubeProxyView} from './model.js'

export function readKubeProxyIpvsView(_node: NodeDatapath): KubeProxyView | undefined {
  return undefined
}
