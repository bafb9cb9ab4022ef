import type {KubeObject} from '../objects.js'
import type {PodPlan} from '../plan.js'
import {patchPodLabels} from './real.js'
import {iptables, nodeOfPod, requirePod, runAll} from './util.js'
import type {Fault} from './types.js'

export const QUARANTINE_LABEL = 'knet.dev/quarantine'

export function policyName(pod: PodPlan): string {
  return `deny-ingress-${pod.name}`
}

/** The policy: podSelector on the quarantine label, Ingress, no rules (default deny). */
function policyManifest(pod: PodPlan): KubeObject & {metadata: Record<string, unknown>} {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {name: policyName(pod), namespace: pod.namespace},
    spec: {podSelector: {matchLabels: {[QUARANTINE_LABEL]: 'true'}}, policyTypes: ['Ingress']},
  }
}

/** kube-router/calico style: one chain per policy, named from it, jumped to for the selected pod's IP. */
function chainName(pod: PodPlan): string {
  return `KNET-NWPLCY-${pod.name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 28)
}

export const netpolDeny: Fault = {
  id: 'netpol-deny',
  emulates:
    'A NetworkPolicy selects a pod with policyTypes [Ingress] and no ingress rules (default deny), and the network plugin enforces it with filter rules on the pod\'s node: every new connection to the pod is dropped.',
  expect: 'anything → web-2-2 (other nodes and same node): timeout; svc/default/web: partial with web-2-2 silent; web-2-2 → others and every other pair delivered.',
  api: `API: a NetworkPolicy default/deny-ingress-web-2-2 (podSelector ${QUARANTINE_LABEL}=true, policyTypes [Ingress], no ingress rules) is added and the Pod gets that label.`,
  defaults: {node: 'node-2', target: 'web-2-2'},
  targetHelp: 'the pod the policy selects (its node enforces it)',
  real: {
    does: "the NetworkPolicy is created and the Pod labelled through the API; the lab's flannel enforces no policy, so the filter rules a policy agent would write are added on the pod's node as emulated. Heal removes all three.",
    async break(ctx, emulated) {
      const pod = requirePod(ctx.plan, ctx.target)
      const result = await emulated()
      await ctx.real.api.ensure(policyManifest(pod) as never)
      await patchPodLabels(ctx.real, pod, {[QUARANTINE_LABEL]: 'true'})
      return result
    },
    async heal(ctx, applied, emulated) {
      const pod = requirePod(ctx.plan, applied.target)
      await ctx.real.api.remove('networking.k8s.io/v1', 'NetworkPolicy', policyName(pod), pod.namespace)
      await patchPodLabels(ctx.real, pod, {[QUARANTINE_LABEL]: null})
      await emulated()
    },
  },
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    const chain = chainName(pod)
    const comment = `netpol default/${policyName(pod)}: ingress to ${pod.name} denied`
    const jump = ['-d', `${pod.ip}/32`, '-m', 'comment', '--comment', `default/${policyName(pod)}`, '-j', chain]
    await runAll([
      iptables(node, '-N', chain),
      // Policies are stateful: replies to the pod's own connections still come in.
      iptables(node, '-A', chain, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'RETURN'),
      iptables(node, '-A', chain, '-m', 'comment', '--comment', comment, '-j', 'DROP'),
      iptables(node, '-I', 'FORWARD', '1', ...jump),
    ])
    return {undo: [iptables(node, '-D', 'FORWARD', ...jump), iptables(node, '-F', chain), iptables(node, '-X', chain)], data: {pod: pod.name}}
  },
  objects(objects, applied, plan) {
    const pod = requirePod(plan, applied.target)
    const manifest = policyManifest(pod)
    const policy: KubeObject = {...manifest, metadata: {...manifest.metadata, uid: `00000000-0000-4000-8000-${pod.name.replace(/[^a-z0-9]/g, '').padEnd(12, '0').slice(0, 12)}`, creationTimestamp: '2026-01-01T00:00:00Z'}}
    const labelled = objects.map((o) => {
      const meta = o.metadata as {name?: string; namespace?: string; labels?: Record<string, string>}
      if (o.kind !== 'Pod' || meta.name !== pod.name || meta.namespace !== pod.namespace) return o
      return {...o, metadata: {...meta, labels: {...meta.labels, [QUARANTINE_LABEL]: 'true'}}}
    })
    return [...labelled, policy]
  },
}
