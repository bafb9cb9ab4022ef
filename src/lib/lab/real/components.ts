/**
 * The argv of each upstream program in a real lab (pure), and where each runs:
 *   router namespace  etcd (its loopback), kube-apiserver (10.100.0.1:6443, reachable from every
 *                     node and pod over the underlay, and the `kubernetes` Service's endpoint),
 *                     kube-controller-manager and kube-scheduler (no serving ports);
 *   each node         kube-proxy and flanneld, as their DaemonSets would run them (host network).
 * Each lab has its own router namespace, so two labs on one machine never share a port.
 */
import {join} from 'node:path'
import type {LabPlan, NodePlan} from '../plan.js'
import type {LabPki} from './pki.js'

export const API_PORT = 6443
export const ETCD_CLIENT = 'http://127.0.0.1:2379'
const ETCD_PEER = 'http://127.0.0.1:2380'

export function apiServerUrl(plan: LabPlan): string {
  return `https://${plan.router.ip}:${API_PORT}`
}

/** The Service ranges, IPv4 first on a dual-stack lab (the apiserver's and KCM's flag value). */
export function serviceRanges(plan: LabPlan): string {
  return [plan.serviceCIDR, plan.serviceCIDR6].filter(Boolean).join(',')
}

/** The pod ranges, IPv4 first on a dual-stack lab (KCM's --cluster-cidr, kube-proxy's clusterCIDR). */
export function clusterRanges(plan: LabPlan): string {
  return [plan.clusterCIDR, plan.clusterCIDR6].filter(Boolean).join(',')
}

/**
 * KCM's node IPAM: one range per family, and then a mask size per family (the single
 * --node-cidr-mask-size applies to a single-stack range only): /24s as the plan's, /64s in IPv6.
 */
function nodeCidrMaskFlags(plan: LabPlan): string[] {
  return plan.clusterCIDR6 ? ['--node-cidr-mask-size-ipv4=24', '--node-cidr-mask-size-ipv6=64'] : ['--node-cidr-mask-size=24']
}

export interface LabFiles {
  dir: string
  bin: string
  pki: LabPki
  tokenFile: string
  /** Per identity kubeconfig paths (all at the in-lab URL). */
  kubeconfigs: Record<'kube-proxy' | 'flannel' | 'kube-controller-manager' | 'kube-scheduler' | 'kubelet', string>
  schedulerConfig: string
  flannelNetConf: string
}

export interface ComponentSpec {
  component: string
  /** Namespace it runs in. */
  netns: string
  /** The node it serves (node programs). */
  node?: string
  argv: string[]
  env?: Record<string, string>
  log: string
}

/** A control-plane program in the router namespace, logging to DIR/PROGRAM.log. */
function routerProgram(plan: LabPlan, f: LabFiles, component: string, flags: string[]): ComponentSpec {
  return {component, netns: plan.router.netns, log: join(f.dir, `${component}.log`), argv: [join(f.bin, component), ...flags]}
}

/** A node program in the node's namespace (its DaemonSet pod, host network), logging to DIR/NODE/PROGRAM.log. */
function nodeProgram(node: NodePlan, f: LabFiles, component: string, flags: string[], env?: Record<string, string>): ComponentSpec {
  return {component, netns: node.netns, node: node.name, log: join(f.dir, node.name, `${component}.log`), argv: [join(f.bin, component), ...flags], ...(env ? {env} : {})}
}

/** What every Kubernetes program here is run with: no profiling endpoint, terse logs. */
const QUIET = ['--profiling=false', '--v=1']

export function etcdSpec(plan: LabPlan, f: LabFiles): ComponentSpec {
  return routerProgram(plan, f, 'etcd', [
    '--name=lab',
    `--data-dir=${join(f.dir, 'etcd')}`,
    `--listen-client-urls=${ETCD_CLIENT}`,
    `--advertise-client-urls=${ETCD_CLIENT}`,
    `--listen-peer-urls=${ETCD_PEER}`,
    `--initial-advertise-peer-urls=${ETCD_PEER}`,
    `--initial-cluster=lab=${ETCD_PEER}`,
    // tmpfs under /run: fsync buys nothing and costs seconds on a small VM.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ])
}

export function apiServerSpec(plan: LabPlan, f: LabFiles): ComponentSpec {
  return routerProgram(plan, f, 'kube-apiserver', [
    `--etcd-servers=${ETCD_CLIENT}`,
    `--bind-address=${plan.router.ip}`,
    `--advertise-address=${plan.router.ip}`,
    `--secure-port=${API_PORT}`,
    `--tls-cert-file=${f.pki.serverCert}`,
    `--tls-private-key-file=${f.pki.serverKey}`,
    `--client-ca-file=${f.pki.caCert}`,
    `--cert-dir=${join(f.dir, 'apiserver-certs')}`,
    `--token-auth-file=${f.tokenFile}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    `--service-cluster-ip-range=${serviceRanges(plan)}`,
    `--service-account-key-file=${f.pki.saPub}`,
    `--service-account-signing-key-file=${f.pki.saKey}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    ...QUIET,
  ])
}

export function controllerManagerSpec(plan: LabPlan, f: LabFiles): ComponentSpec {
  return routerProgram(plan, f, 'kube-controller-manager', [
    `--kubeconfig=${f.kubeconfigs['kube-controller-manager']}`,
    '--leader-elect=false',
    '--secure-port=0',
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${clusterRanges(plan)}`,
    ...nodeCidrMaskFlags(plan),
    `--service-cluster-ip-range=${serviceRanges(plan)}`,
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${f.pki.saKey}`,
    `--root-ca-file=${f.pki.caCert}`,
    '--controllers=*',
    ...QUIET,
  ])
}

export function schedulerSpec(plan: LabPlan, f: LabFiles): ComponentSpec {
  return routerProgram(plan, f, 'kube-scheduler', [`--config=${f.schedulerConfig}`, '--secure-port=0', ...QUIET])
}

export function kubeProxyConfigPath(dir: string, node: NodePlan): string {
  return join(dir, node.name, 'kube-proxy.yaml')
}

export function kubeProxySpec(node: NodePlan, f: LabFiles): ComponentSpec {
  return nodeProgram(node, f, 'kube-proxy', [`--config=${kubeProxyConfigPath(f.dir, node)}`, '--v=1'])
}

export function flannelSubnetFile(dir: string, node: NodePlan): string {
  return join(dir, node.name, 'subnet.env')
}

export function flanneldSpec(node: NodePlan, f: LabFiles): ComponentSpec {
  return nodeProgram(
    node,
    f,
    'flanneld',
    [
      '--kube-subnet-mgr',
      `--kubeconfig-file=${f.kubeconfigs.flannel}`,
      // Both of eth0's addresses on a dual-stack lab (net-conf.json's EnableIPv6): the IPv4 and IPv6 VTEPs.
      '--iface=eth0',
      '--ip-masq',
      `--subnet-file=${flannelSubnetFile(f.dir, node)}`,
      `--net-config-path=${f.flannelNetConf}`,
    ],
    // What kube-flannel.yml sets from the downward API.
    {NODE_NAME: node.name, POD_NAME: `kube-flannel-ds-${node.name}`, POD_NAMESPACE: 'kube-flannel'},
  )
}
