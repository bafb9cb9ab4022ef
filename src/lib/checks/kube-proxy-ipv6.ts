/**
 * kube-proxy's IPv6 rules on a node, for the NAT checks. Dual-stack kube-proxy runs one proxier per
 * family, each writing its own rules in the node's mode:
 * - iptables: ip6tables, in the IPv4 layout (KUBE-SERVICES, KUBE-SVC-*, KUBE-SEP-* DNAT to
 *   [addr]:port), so ip6tables-save is read with the IPv4 reader;
 * - nftables: an `ip6 kube-proxy` table next to `ip kube-proxy`, in the same layout;
 * - IPVS: the IPv6 virtual services of the one IPVS table (`[addr]:port`).
 * A node in nftables mode without an `ip6 kube-proxy` table gets an empty view: it implements no
 * IPv6 Service, which the NAT checks report for Services that have IPv6 endpoints.
 */
import type {AnalysisModel, KubeProxyView} from '../model/model.js'
import {readKubeProxyView} from '../model/kube-proxy-view.js'
import {readKubeProxyNftView} from '../model/kube-proxy-nft-view.js'
import {readKubeProxyIpvsView} from '../model/kube-proxy-ipvs-view.js'
import type {NodeDatapath} from '../model/node.js'

const views = new WeakMap<NodeDatapath, KubeProxyView | null>()

function readView6(model: AnalysisModel, node: NodeDatapath): KubeProxyView | undefined {
  const v4 = model.index.kubeProxyView(node)
  if (v4?.mode === 'ipvs') return readKubeProxyIpvsView(node, model.cluster, 6)
  const nftSource = node.evidence.nft?.source ?? `${node.name}: nft`
  // Gathered table by table, the evidence quotes the ip kube-proxy listing: the IPv6 view quotes its own.
  const source6 = nftSource.endsWith(' list table ip kube-proxy') ? `${nftSource.slice(0, -' ip kube-proxy'.length)} ip6 kube-proxy` : nftSource
  // A table whose listing failed is known by its chains only (a model problem says so): not judged.
  if (node.nft?.tables.some((t) => t.family === 'ip6' && t.name === 'kube-proxy' && t.handle < 0)) return undefined
  const nft6 = node.nft ? readKubeProxyNftView(node.name, source6, node.nft, 'ip6') : undefined
  if (v4?.mode === 'nftables') return nft6 ?? {node: node.name, source: source6, mode: 'nftables', ports: [], byKey: new Map(), noEndpoints: []}
  const ipt6 = node.iptables6 ? readKubeProxyView(node.name, node.evidence['ip6tables-save']?.source ?? `${node.name}: ip6tables-save`, node.iptables6) : undefined
  // An IPv6-only node in nftables mode shows no IPv4 rules at all (its IPv4 view reads as empty iptables).
  if (nft6 && (ipt6 === undefined || ipt6.ports.length === 0) && (v4 === undefined || v4.ports.length === 0)) return nft6
  return ipt6
}

/** The node's IPv6 kube-proxy view in its mode, or undefined (that mode's evidence not gathered). */
export function kubeProxyView6(model: AnalysisModel, node: NodeDatapath): KubeProxyView | undefined {
  if (!views.has(node)) views.set(node, readView6(model, node) ?? null)
  return views.get(node) ?? undefined
}
