/**
 * The runner: evaluates each check's requirements against the model, gives the check the nodes
 * whose evidence it has, and collects findings and "skipped: reason" entries. Missing evidence is
 * never a silent pass, and collection errors stay collection errors.
 */
import type {ClusterModel} from '../model/cluster.js'
import {buildModel, type AnalysisModel} from '../model/model.js'
import type {NodeDatapath} from '../model/node.js'
import type {Snapshot} from '../snapshot/schema.js'
import type {Finding, Skipped} from '../report/finding.js'
import {compareFindings, type DoctorReport} from '../report/report.js'
import type {Severity} from '../report/severity.js'
import type {Check, ClusterRequirement} from './types.js'

export interface CheckContext {
  model: AnalysisModel
  /** Nodes whose required evidence is present (and, for kube-proxy iptables checks, in iptables mode). */
  nodes: NodeDatapath[]
  /** The cluster model; throws when the check did not require cluster evidence and there is none. */
  cluster(): ClusterModel
  /** Report part of the check as skipped: "net.ipv4.ip_forward not in the sysctls output on node-1". */
  skip(reason: string): void
  finding(f: Omit<Finding, 'check' | 'severity'> & {severity?: Severity}): Finding
}

export function runChecks(model: AnalysisModel, checks: readonly Check[]): DoctorReport {
  const findings: Finding[] = []
  const skipped: Skipped[] = []
  for (const check of checks) {
    const result = runCheck(model, check)
    findings.push(...result.findings)
    skipped.push(...result.skipped)
  }
  return {findings: findings.sort(compareFindings), skipped, collectionErrors: [...model.collectionErrors], checks: checks.length, nodes: model.nodes.length}
}

export function runCheck(model: AnalysisModel, check: Check): {findings: Finding[]; skipped: Skipped[]} {
  const skipped: Skipped[] = []
  const seen = new Set<string>()
  const skip = (reason: string) => {
    if (seen.has(reason)) return
    seen.add(reason)
    skipped.push({check: check.id, reason})
  }
  for (const req of check.requires) {
    if (!req.startsWith('cluster:')) continue
    const missing = clusterMissing(model, req as ClusterRequirement)
    if (missing) {
      skip(missing)
      return {findings: [], skipped}
    }
  }
  const nodeReqs = check.requires.filter((r) => r.startsWith('node:')).map((r) => r.slice('node:'.length))
  let nodes = model.nodes
  if (nodeReqs.length > 0) {
    if (model.nodes.length === 0) {
      skip('no node datapath evidence in the snapshot (gathered with --node-access none?)')
      return {findings: [], skipped}
    }
    nodes = model.nodes.filter((node) => {
      for (const id of nodeReqs) {
        const e = node.evidence[id]
        if (e?.status === 'ok') continue
        const status = !e || e.status === 'absent' ? 'not in the snapshot' : e.status
        skip(`${id} ${status} on ${node.name}${e?.reason ? ` (${e.reason})` : ''}`)
        return false
      }
      return true
    })
  }
  if (check.kubeProxyIptables) {
    // kube-proxy's rules are read in the node's mode: each mode needs its own evidence.
    const configured = model.cluster?.kubeProxy.mode
    nodes = nodes.filter((node) => {
      const mode = model.index.observedKubeProxyMode(node)?.mode ?? configured ?? 'iptables'
      if (!(mode in KUBE_PROXY_EVIDENCE)) {
        skip(`${node.name} runs kube-proxy in ${mode} mode; this check reads iptables-mode rules and does not support ${mode} yet`)
        return false
      }
      const ids = KUBE_PROXY_EVIDENCE[mode] ?? ['iptables-save']
      for (const id of ids) {
        const e = node.evidence[id]
        if (e?.status === 'ok') continue
        const status = !e || e.status === 'absent' ? 'not in the snapshot' : e.status
        skip(`${id} ${status} on ${node.name}${e?.reason ? ` (${e.reason})` : ''}${mode === 'iptables' ? '' : ` (kube-proxy ${mode} mode)`}`)
        return false
      }
      return true
    })
  }
  if (nodeReqs.length > 0 && nodes.length === 0) return {findings: [], skipped}
  const ctx: CheckContext = {
    model,
    nodes,
    cluster: () => {
      if (!model.cluster) throw new Error(`check ${check.id} read the cluster model without requiring it`)
      return model.cluster
    },
    skip,
    finding: (f) => ({check: check.id, severity: f.severity ?? check.severity, subject: f.subject, ...(f.node === undefined ? {} : {node: f.node}), message: f.message, evidence: f.evidence, ...(f.family === undefined ? {} : {family: f.family})}),
  }
  return {findings: check.run(ctx), skipped}
}

/** The node evidence kube-proxy's rules are read from, per mode. */
const KUBE_PROXY_EVIDENCE: Record<string, string[]> = {iptables: ['iptables-save'], nftables: ['nft'], ipvs: ['ipvsadm']}

const RESOURCE: Record<ClusterRequirement, string> = {
  'cluster:nodes': 'nodes',
  'cluster:pods': 'pods',
  'cluster:services': 'services',
  'cluster:endpointslices': 'endpointslices',
  'cluster:networkpolicies': 'networkpolicies',
  'cluster:kube-proxy-config': 'configmaps',
}

function clusterMissing(model: AnalysisModel, req: ClusterRequirement): string | undefined {
  const cluster = model.cluster
  if (!cluster) return 'no cluster state in the snapshot (no --objects, no kubeconfig, or --no-cluster)'
  const resource = RESOURCE[req]
  const error = cluster.collectionErrors.find((e) => e.source === resource)
  if (error) return `${resource} could not be read (${error.message})`
  if (req === 'cluster:networkpolicies' && !cluster.networkPolicies) return 'NetworkPolicies could not be read'
  if (req === 'cluster:kube-proxy-config' && cluster.kubeProxy.mode === undefined) {
    return 'kube-proxy mode unknown: no readable kube-system/kube-proxy ConfigMap'
  }
  return undefined
}

/** doctor's one library call: the snapshot through the model and the selected checks. */
export function runDoctor(snapshot: Snapshot, checks: readonly Check[]): DoctorReport {
  return runChecks(buildModel(snapshot), checks)
}
