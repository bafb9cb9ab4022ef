/**
 * Whether a node carries pods, so that settings only pods need (ip_forward, br_netfilter, an
 * accepting FORWARD chain) are judged there. A laptop, a build host or a Docker host that is no
 * Kubernetes node has ip_forward=0 or FORWARD DROP for good reasons. The API answers when it lists
 * pods; without it, the node's own CNI interfaces and config do. Unknown counts as carrying pods,
 * so a check is never silenced by missing evidence.
 */
import type {AnalysisModel} from '../model/model.js'
import {nodeCni} from '../model/node-cni.js'
import type {NodeDatapath} from '../model/node.js'

/** undefined when the node carries pods (or nothing says it does not); otherwise the skip reason. */
export function noPodsReason(model: AnalysisModel, node: NodeDatapath, what: string): string | undefined {
  const cluster = model.cluster
  const podsRead = cluster !== undefined && !cluster.collectionErrors.some((e) => e.source === 'pods') && cluster.pods.length > 0
  if (podsRead && model.index.nodeByName().has(node.name)) {
    const onNode = cluster.pods.some((p) => p.node === node.name && !p.hostNetwork && p.phase !== 'Succeeded' && p.phase !== 'Failed')
    return onNode ? undefined : `${node.name} carries no pods (the API lists no pod on it outside the host network), so ${what} was not judged`
  }
  // Without the API's word: any CNI interface or CNI config means pods may live here.
  if (node.evidence.links?.status !== 'ok') return undefined
  if (nodeCni(node).signs.length > 0 || (node.cni ?? []).length > 0) return undefined
  const why = cluster === undefined ? 'no cluster state' : podsRead ? `${node.name} is not a Node in the cluster state` : 'pods not read'
  return `${node.name} carries no pods (${why}, and no CNI interface or CNI config on the node), so ${what} was not judged`
}
