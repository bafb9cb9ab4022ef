/**
 * What a check is: a stable id, a title, a default severity, the evidence it needs, a remediation
 * line, an explanation in plain words, and a pure run over the model. Checks never read a clock,
 * the network or the environment.
 */
import type {EvidenceId} from '../model/node-evidence.js'
import type {Finding} from '../report/finding.js'
import type {Severity} from '../report/severity.js'
import type {CheckContext} from './context.js'

export type ClusterRequirement =
  | 'cluster:nodes'
  | 'cluster:pods'
  | 'cluster:services'
  | 'cluster:endpointslices'
  | 'cluster:networkpolicies'
  | 'cluster:kube-proxy-config'

export type EvidenceRequirement = ClusterRequirement | `node:${EvidenceId}`

export interface Check {
  /** Stable: users pass it to --only/--skip and CI keys on it. */
  id: string
  title: string
  severity: Severity
  /** Missing cluster evidence skips the check; missing node evidence skips only that node. */
  requires: readonly EvidenceRequirement[]
  /**
   * Reads kube-proxy's rules in the node's mode (iptables-save, nft or ipvsadm, whichever the mode
   * needs); a node without that evidence is skipped with the reason. The name is historical (JSON contract).
   */
  kubeProxyIptables?: boolean
  remediation: string
  explanation: string
  run(ctx: CheckContext): Finding[]
}
