import type {Finding} from '../report/finding.js'
import {nodeEvidence} from './evidence.js'
import type {NodeDatapath} from '../model/node.js'
import type {CheckContext} from './context.js'
import type {Check} from './types.js'

/** Problems that mean the iptables binary misread the kernel's rules, not a malformed dump. */
export function isUserspaceMismatch(p: {message: string; text?: string}): boolean {
  return p.message.includes('garbled') || (p.text ?? '').includes('[unsupported revision]') || /unsupported revision/i.test(p.message)
}

const SOURCES = ['iptables-save', 'ip6tables-save', 'iptables-legacy-save'] as const
type Source = (typeof SOURCES)[number]

/** Which kernel backend holds the rules a source printed: legacy-save reads legacy; the others read what `iptables --version` names. */
function backendOf(node: NodeDatapath, id: Source): 'nf_tables' | 'legacy' | undefined {
  return id === 'iptables-legacy-save' ? 'legacy' : node.iptablesVersion?.backend
}

/** The binary that reads those rules right, as a command to run where a newer iptables is (kube-proxy's container). */
function matchingBinary(id: Source, backend: 'nf_tables' | 'legacy' | undefined): string {
  const v6 = id === 'ip6tables-save' ? 'ip6' : 'ip'
  if (backend === undefined) return `${v6}tables-save`
  return `${v6}tables-${backend === 'nf_tables' ? 'nft' : 'legacy'}-save`
}

/** kube-proxy's pod on the node, when the cluster evidence shows one: its image carries the iptables that wrote the rules. */
function kubeProxyPod(model: CheckContext['model'], node: string): string | undefined {
  const pod = model.cluster?.pods.find((p) => p.node === node && p.namespace === 'kube-system' && (p.labels['k8s-app'] === 'kube-proxy' || p.name.startsWith('kube-proxy-')))
  return pod && `${pod.namespace}/${pod.name}`
}

export const iptablesUnreadable: Check = {
  id: 'iptables-unreadable',
  title: "iptables in userspace can read the kernel's rules",
  severity: 'error',
  requires: ['node:iptables-save'],
  remediation:
    "read the rules with the iptables that wrote them, of the backend that holds them (iptables-nft-save or iptables-legacy-save inside kube-proxy's or the CNI's container, whose iptables -V is at least the node's) or upgrade the node's iptables to that version; until then trust no tool that reads the host's iptables-save",
  explanation:
    "An iptables binary older than the one that wrote a rule (or of the other backend) prints the kernel's rule garbled: a DNAT as \"--to-destination  --random --to-destination 0.0.0.0:0\", a match as \"[unsupported revision]\". The rule still works in the kernel; only what userspace shows is wrong, so a human or tool reading it (and iptables-restore of such a dump) gets the datapath wrong. knet treats such a rule as unknown in trace.",
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      for (const id of SOURCES) {
        const bad = node.problems.filter((p) => p.source === id && isUserspaceMismatch(p))
        const first = bad[0]
        if (!first) continue
        const backend = backendOf(node, id)
        const version = node.iptablesVersion
        const binary = matchingBinary(id, backend)
        const pod = kubeProxyPod(ctx.model, node.name)
        const where = pod ? `kubectl -n ${pod.split('/')[0]} exec ${pod.split('/')[1]} -- ${binary}` : `${binary} from kube-proxy's (or the CNI's) image`
        const held = backend === undefined ? '' : `; the rules are in the ${backend === 'nf_tables' ? 'nf_tables' : 'legacy'} backend`
        const mine = version && id !== 'iptables-legacy-save' ? ` (the node's iptables is v${version.version}, ${version.backend})` : ''
        findings.push(
          ctx.finding({
            subject: {kind: 'node', name: node.name},
            node: node.name,
            message: `${id} on ${node.name} prints ${bad.length} rule(s) it cannot decode: the iptables binary and the kernel's rules disagree${mine}, a newer iptables wrote them${held}; read them with ${where}`,
            evidence: [
              ...bad.slice(0, 3).map((p) => nodeEvidence(node, id, `line ${p.line}: ${p.text ?? ''} (${p.message})`)),
              ...(version ? [nodeEvidence(node, 'iptables-version', version.text)] : []),
            ],
          }),
        )
      }
    }
    return findings
  },
}
