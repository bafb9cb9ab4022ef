/**
 * The configuration files of a real lab's programs, generated from the plan (pure): kube-proxy's
 * KubeProxyConfiguration, kube-scheduler's KubeSchedulerConfiguration, flannel's net-conf.json and
 * the CNI conflist each node's hollow kubelet runs. They are also published as the ConfigMaps a
 * kubeadm cluster and kube-flannel.yml carry (kube-system/kube-proxy, kube-flannel/kube-flannel-cfg),
 * which is where knet reads the proxy mode and flannel's backend from.
 */
import {stringify} from 'yaml'
import {UNDERLAY_MTU, VXLAN6_OVERHEAD, VXLAN_OVERHEAD, type LabPlan, type NodePlan} from '../plan.js'
import type {CniConflist} from './cni.js'
import {clusterRanges} from './components.js'

export const PROXY_MODES = ['iptables', 'nftables'] as const
export type ProxyMode = (typeof PROXY_MODES)[number]

/** The CNI network name (kube-flannel.yml's "cbr0"); host-local keys its store by it. */
export const CNI_NETWORK = 'cbr0'
export const CNI_VERSION = '0.3.1'

export function kubeProxyConfig(plan: LabPlan, mode: ProxyMode, kubeconfig: string, node?: NodePlan): string {
  const doc = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: {kubeconfig},
    ...(node ? {hostnameOverride: node.name} : {}),
    mode,
    // Both families on a dual-stack lab: kube-proxy then runs a proxier per family (ip6tables, or
    // the ip6 nftables table, for IPv6), each with its own cluster range for local-traffic detection.
    clusterCIDR: clusterRanges(plan),
    // In a child namespace nf_conntrack_max is read-only (kernel ≥5.12) and the TCP timeouts are
    // the host's: 0 tells kube-proxy to leave them alone instead of failing to set them.
    conntrack: {maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s'},
    // Node-local listeners stay on the node namespace's loopback.
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '127.0.0.1:10256',
  }
  return stringify(doc)
}

export function schedulerConfig(kubeconfig: string): string {
  return stringify({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    clientConnection: {kubeconfig},
    leaderElection: {leaderElect: false},
  })
}

/**
 * flannel's net-conf.json: the cluster CIDR and the backend the topology names. ptp runs host-gw:
 * flanneld there only writes what kindnetd would, a route per other node's pod CIDR via its IP.
 *
 * Dual-stack: EnableIPv6 and IPv6Network (flanneld then takes each node's second spec.podCIDRs
 * entry, creates flannel-v6.1 and writes FLANNEL_IPV6_* to subnet.env). With VXLAN, flanneld
 * v0.28 sizes flannel-v6.1 as it sizes flannel.1 — the backend's MTU (default: the NIC's) less 50
 * bytes — although VXLAN over IPv6 costs 70; so the lab sets the backend's MTU to the underlay's
 * less 20, as an operator must: both devices and FLANNEL_MTU (the pods' MTU) become 1430, the
 * emulated dual-stack lab's values.
 */
export function flannelNetConf(plan: LabPlan): string {
  const dual = plan.clusterCIDR6 !== undefined
  const vxlan = plan.params.topology === 'vxlan'
  const backend = vxlan ? {Type: 'vxlan', VNI: 1, Port: 8472, ...(dual ? {MTU: UNDERLAY_MTU - (VXLAN6_OVERHEAD - VXLAN_OVERHEAD)} : {})} : {Type: 'host-gw'}
  const v6 = dual ? {EnableIPv6: true, IPv6Network: plan.clusterCIDR6} : {}
  return `${JSON.stringify({Network: plan.clusterCIDR, ...v6, Backend: backend}, null, 2)}\n`
}

export interface NodeCniPaths {
  /** flanneld's --subnet-file, read by the flannel plugin. */
  subnetFile: string
  /** The flannel plugin's scratch dir (the delegate config per container). */
  dataDir: string
  /** host-local's store. */
  ipamDir: string
}

/**
 * kube-flannel.yml's cni-conf.json (flannel delegating to bridge with hairpin mode and a default
 * route, then portmap), with per-node paths so nodes sharing one host never share state, and the
 * plan's bridge name.
 */
export function cniConflist(node: NodePlan, paths: NodeCniPaths): CniConflist {
  return {
    name: CNI_NETWORK,
    cniVersion: CNI_VERSION,
    plugins: [
      {
        type: 'flannel',
        subnetFile: paths.subnetFile,
        dataDir: paths.dataDir,
        ipam: {type: 'host-local', dataDir: paths.ipamDir},
        delegate: {hairpinMode: true, isDefaultGateway: true, ...(node.bridge ? {bridge: node.bridge.name} : {})},
      },
      {type: 'portmap', capabilities: {portMappings: true}},
    ],
  }
}

/** kindnet's CNI network name (kindnetd's 10-kindnet.conflist). */
export const KINDNET_NETWORK = 'kindnet'

/**
 * The conflist kindnetd writes once its node has a pod CIDR: the ptp plugin (no masquerade: that
 * is the node agent's) with host-local over spec.podCIDR and a default route, then portmap. The
 * IPAM store is per node, so nodes sharing one host never share state.
 */
export function ptpConflist(podCIDR: string, ipamDir: string, mtu: number): CniConflist {
  return {
    name: KINDNET_NETWORK,
    cniVersion: CNI_VERSION,
    plugins: [
      {type: 'ptp', ipMasq: false, ipam: {type: 'host-local', dataDir: ipamDir, routes: [{dst: '0.0.0.0/0'}], ranges: [[{subnet: podCIDR}]]}, mtu},
      {type: 'portmap', capabilities: {portMappings: true}},
    ],
  }
}
