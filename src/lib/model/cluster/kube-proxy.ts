/**
 * kube-proxy's mode and clusterCIDR from its kubeadm-style ConfigMap (kube-system/kube-proxy,
 * key config.conf holding a KubeProxyConfiguration). Managed clusters often have no such
 * ConfigMap (GKE) or a differently shaped one (EKS: kube-proxy-config); then the mode is unknown.
 */
import {parse} from 'yaml'
import {rec, str, type ModelProblem} from './read.js'

export interface KubeProxyModel {
  /** A kube-proxy DaemonSet exists; undefined when DaemonSets could not be read. */
  present?: boolean
  /** iptables | ipvs | nftables | kernelspace; undefined when unknown. */
  mode?: string
  /** The mode was empty in the config, so kube-proxy's platform default (iptables on Linux) applies. */
  modeDefaulted: boolean
  clusterCIDRs: string[]
  /** Where mode/clusterCIDR came from, e.g. "ConfigMap kube-system/kube-proxy config.conf". */
  source?: string
}

export function readKubeProxy(configMap: unknown, present: boolean | undefined, problems: ModelProblem[]): KubeProxyModel {
  const result: KubeProxyModel = {...(present === undefined ? {} : {present}), modeDefaulted: false, clusterCIDRs: []}
  if (configMap === null || configMap === undefined) return result
  const data = rec(rec(configMap).data)
  const key = Object.keys(data).find((k) => k === 'config.conf') ?? Object.keys(data).find((k) => k.endsWith('.conf') || k.endsWith('.yaml'))
  const text = key ? str(data[key]) : undefined
  if (!key || text === undefined) {
    problems.push({subject: 'configmap kube-system/kube-proxy', message: 'no config.conf key; kube-proxy mode unknown'})
    return result
  }
  let config: Record<string, unknown>
  try {
    config = rec(parse(text))
  } catch (error) {
    problems.push({subject: 'configmap kube-system/kube-proxy', message: `config.conf is not YAML: ${(error as Error).message.split('\n')[0]}`})
    return result
  }
  const mode = str(config.mode) ?? ''
  const cidr = str(config.clusterCIDR) ?? ''
  return {
    ...result,
    mode: mode === '' ? 'iptables' : mode,
    modeDefaulted: mode === '',
    clusterCIDRs: cidr.split(',').map((c) => c.trim()).filter(Boolean),
    source: `ConfigMap kube-system/kube-proxy ${key}`,
  }
}
