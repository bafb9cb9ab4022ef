/**
 * Which CNI a node's own state shows: its interfaces (cali*, vxlan.calico, flannel.1, cilium_host,
 * eni*, cni0/cbr0…) and the CNI config the runtime uses. The DaemonSets (cni-detect.ts) are one
 * witness; a node gathered without the API, or a CNI installed some other way (a static manifest,
 * a cloud's managed agent, a renamed DaemonSet), leaves only this one. Pure: the node's evidence in,
 * signs with their evidence lines out.
 */
import type {CniId} from '../gather/cluster/cni-detect.js'
import {activeCniConf} from '../parse/cni-conf.js'
import type {Link} from '../parse/iproute2/links.js'
import type {Evidence} from '../report/finding.js'
import {observeKubeProxyMode} from './model.js'
import type {NodeDatapath} from './node.js'

/** A vendor's plugin, or a generic one (the bridge plugin and kubenet; ptp) that names none. */
export type NodeCniId = CniId | 'bridge' | 'ptp'

export interface NodeCniSign {
  cni: NodeCniId
  evidence: Evidence
}

export interface NodeCni {
  /** The plugin the CNI config names, else the first vendor interface, else a generic one. */
  cni?: NodeCniId
  /** What was recognised, config first; one sign per kind of interface, not one per pod. */
  signs: NodeCniSign[]
  /** Pod traffic is forwarded by eBPF programs, which no evidence knet reads shows. */
  ebpf?: {what: string; evidence: Evidence[]}
}

const GENERIC = new Set<NodeCniId>(['bridge', 'ptp', 'multus'])

/** A plugin any CNI may chain (bridge, ptp, multus): no sign of which CNI runs the network. */
export function isGenericCni(cni: NodeCniId): boolean {
  return GENERIC.has(cni)
}

interface LinkSign {
  cni: NodeCniId
  name: RegExp
  kind?: string
  /** Calico's eBPF dataplane: its own devices say so. */
  ebpf?: string
}

// Names the plugins give the devices they create. Veth prefixes are only read on veths, so a
// host's own "eni…" or "lxc…" interface of another kind is not taken for a pod's.
const LINK_SIGNS: readonly LinkSign[] = [
  {cni: 'calico', name: /^(bpfin\.cali|bpfout\.cali|bpfnatin|bpfnatout)$/, ebpf: "Calico's eBPF dataplane"},
  {cni: 'calico', name: /^(vxlan\.calico|vxlan-v6\.calico|wireguard\.cali|wg-v6\.cali)$/},
  {cni: 'calico', name: /^cali[0-9a-f]{4,}$/, kind: 'veth'},
  {cni: 'flannel', name: /^(flannel\.\d+|flannel0|flannel-wg(-v6)?|flannel-v6\.\d+)$/},
  {cni: 'cilium', name: /^(cilium_host|cilium_net|cilium_vxlan|cilium_geneve|cilium_wg0)$/},
  {cni: 'cilium', name: /^lxc([0-9a-f]{4,}|_health)$/, kind: 'veth'},
  {cni: 'aws-vpc-cni', name: /^eni[0-9a-f]{4,}$/, kind: 'veth'},
  {cni: 'azure-cni', name: /^azv[0-9a-f]{4,}$/, kind: 'veth'},
  {cni: 'gke-netd', name: /^gke[0-9a-f]{4,}$/, kind: 'veth'},
  {cni: 'weave', name: /^(weave|vxlan-6784)$/},
  {cni: 'kube-router', name: /^(kube-bridge|kube-dummy-if)$/},
  {cni: 'antrea', name: /^antrea-gw0$/},
  {cni: 'ovn-kubernetes', name: /^ovn-k8s-mp\d+$/},
  {cni: 'kube-ovn', name: /^ovn0$/},
  {cni: 'bridge', name: /^(cni0|cbr0)$/, kind: 'bridge'},
]

/** CNI plugin "type" → the plugin it belongs to. */
const CONF_TYPES: Readonly<Record<string, NodeCniId>> = {
  calico: 'calico',
  flannel: 'flannel',
  'cilium-cni': 'cilium',
  'aws-cni': 'aws-vpc-cni',
  'azure-vnet': 'azure-cni',
  'weave-net': 'weave',
  antrea: 'antrea',
  'ovn-k8s-cni-overlay': 'ovn-kubernetes',
  'kube-ovn': 'kube-ovn',
  multus: 'multus',
  'multus-shim': 'multus',
  bridge: 'bridge',
  ptp: 'ptp',
}

const cache = new WeakMap<NodeDatapath, Map<boolean | undefined, NodeCni>>()

/**
 * `kubeProxy`: whether the cluster runs a kube-proxy DaemonSet, when the API said; it decides, with
 * the node's own rules, whether Cilium replaced kube-proxy (then its datapath is eBPF).
 */
export function nodeCni(node: NodeDatapath, kubeProxy?: boolean): NodeCni {
  let byKubeProxy = cache.get(node)
  if (!byKubeProxy) cache.set(node, (byKubeProxy = new Map()))
  const hit = byKubeProxy.get(kubeProxy)
  if (hit) return hit
  const signs: NodeCniSign[] = []
  const source = (id: string) => node.evidence[id]?.source ?? `${node.name}: ${id}`
  const conf = activeCniConf(node.cni ?? [])
  if (conf?.parsed) {
    for (const p of conf.parsed.plugins) {
      const cni = /kindnet/.test(conf.parsed.name) && p.type === 'ptp' ? 'kindnet' : CONF_TYPES[p.type]
      if (cni) signs.push({cni, evidence: {source: source('cni-conf'), text: `${conf.path}: "name": "${conf.parsed.name}", plugin "type": "${p.type}"`}})
    }
  }
  let ebpf: NodeCni['ebpf']
  const seen = new Set<LinkSign>()
  for (const l of node.links ?? []) {
    const sign = LINK_SIGNS.find((s) => s.name.test(l.ifname) && (s.kind === undefined || s.kind === l.kind))
    if (!sign || seen.has(sign)) continue
    seen.add(sign)
    const evidence = {source: source('links'), text: linkLine(l)}
    signs.push({cni: sign.cni, evidence})
    if (sign.ebpf && !ebpf) ebpf = {what: sign.ebpf, evidence: [evidence]}
  }
  const cni = (signs.find((s) => !GENERIC.has(s.cni)) ?? signs.find((s) => s.cni !== 'multus') ?? signs[0])?.cni
  const cilium = signs.find((s) => s.cni === 'cilium')
  if (!ebpf && cilium) {
    const replaced = kubeProxyReplaced(node, kubeProxy)
    if (replaced) ebpf = {what: 'Cilium with kube-proxy replacement', evidence: [cilium.evidence, replaced]}
  }
  const out: NodeCni = {...(cni ? {cni} : {}), signs, ...(ebpf ? {ebpf} : {})}
  byKubeProxy.set(kubeProxy, out)
  return out
}

/** Overlay (tunnel) device kinds: a CNI's device of one of these carries pod traffic between nodes. */
const TUNNEL_KINDS = new Set(['vxlan', 'geneve', 'ipip', 'gre', 'wireguard'])

/**
 * The overlay device a CNI created on this node (vxlan.calico, flannel.1, cilium_vxlan…), with the
 * plugin it belongs to, or undefined. Such a CNI routes every other node's pod range through it
 * (or a route that covers them all), never through the default route.
 */
export function cniOverlayLink(node: NodeDatapath): {cni: NodeCniId; link: Link} | undefined {
  for (const l of node.links ?? []) {
    if (!l.kind || !TUNNEL_KINDS.has(l.kind)) continue
    // tunl0 is the ipip module's fallback device on any host that loaded it; Calico's has its tunnel address.
    if (l.kind === 'ipip' && l.ifname === 'tunl0' && (node.addrs ?? []).some((i) => i.ifname === 'tunl0' && i.addrs.some((a) => a.family === 'inet'))) return {cni: 'calico', link: l}
    const sign = LINK_SIGNS.find((s) => !s.ebpf && s.name.test(l.ifname) && (s.kind === undefined || s.kind === l.kind))
    if (sign && !GENERIC.has(sign.cni)) return {cni: sign.cni, link: l}
  }
  return undefined
}

/** Evidence that no kube-proxy runs for this node, or undefined when it does or nothing says. */
function kubeProxyReplaced(node: NodeDatapath, kubeProxy: boolean | undefined): Evidence | undefined {
  if (kubeProxy === true || observeKubeProxyMode(node)) return undefined
  if (kubeProxy === false) return {source: 'cluster state', text: 'no kube-proxy DaemonSet'}
  // Only rules that were read can show that kube-proxy wrote none.
  if (node.iptables4 && node.evidence['iptables-save']?.status === 'ok') {
    return {source: node.evidence['iptables-save'].source, text: 'no KUBE-SERVICES chain (kube-proxy writes none: replaced)'}
  }
  return undefined
}

function linkLine(l: Link): string {
  return `${l.ifindex}: ${l.ifname}${l.kind ? ` ${l.kind}` : ''}${l.master ? ` master ${l.master}` : ''}`
}
