/**
 * kube-proxy's IPv6 rules on a node, for the NAT checks: in iptables mode kube-proxy writes a
 * dual-stack Service's IPv6 family with ip6tables, in the same layout as IPv4 (KUBE-SERVICES,
 * KUBE-SVC-*, KUBE-SEP-* DNAT to [addr]:port), so ip6tables-save is read with the IPv4 reader.
 * Only nodes whose IPv4 rules show iptables mode are read here; nftables and IPVS modes keep their
 * IPv6 Services elsewhere (an ip6 kube-proxy table, IPVS) and are not judged for IPv6 yet.
 */
import type {AnalysisModel, KubeProxyView} from '../model/model.js'
import {readKubeProxyView} from '../model/kube-proxy-view.js'
import type {NodeDatapath} from '../model/node.js'

const views = new WeakMap<NodeDatapath, KubeProxyView | null>()

/** The node's ip6tables kube-proxy view, or undefined (not gathered, or not iptables mode). */
export function kubeProxyView6(model: AnalysisModel, node: NodeDatapath): KubeProxyView | undefined {
  if (!views.has(node)) {
    const v4 = model.index.kubeProxyView(node)
    const ok = node.iptables6 !== undefined && (v4 === undefined || v4.mode === 'iptables')
    views.set(node, ok && node.iptables6 ? readKubeProxyView(node.name, node.evidence['ip6tables-save']?.source ?? `${node.name}: ip6tables-save`, node.iptables6) : null)
  }
  return views.get(node) ?? undefined
}
