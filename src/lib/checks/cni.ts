/**
 * The CNI a check should assume for a node (model/cluster-cni.ts), and when its datapath is not
 * readable from the node's tables.
 */
import type {AnalysisModel} from '../model/model.js'
import {nodeCni} from '../model/node-cni.js'
import type {NodeDatapath} from '../model/node.js'

export {clusterCni, cniOf, type CniSeen} from '../model/cluster-cni.js'

/**
 * Why pod routing on this node cannot be read from its tables, as a skip reason naming the
 * evidence (trace's unknown-datapath), or undefined when it can.
 */
export function unreadableDatapath(model: AnalysisModel, node: NodeDatapath): string | undefined {
  const ebpf = nodeCni(node, model.cluster?.cni?.kubeProxy).ebpf
  if (!ebpf) return undefined
  return `unknown-datapath on ${node.name}: ${ebpf.what} forwards pod traffic in eBPF programs knet cannot read (${ebpf.evidence.map((e) => e.text).join('; ')})`
}
