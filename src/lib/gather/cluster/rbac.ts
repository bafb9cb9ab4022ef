/**
 * The minimal ClusterRole knet needs, as rule groups each with the reason knet needs it, so a
 * cluster admin can see why every permission is asked for — and each feature (node pods, exec
 * into node agents, trace --probe) adds its own group here rather than widening an existing one.
 * Secrets are deliberately absent: knet never reads them.
 */
import {stringify} from 'yaml'

export interface PolicyRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
  resourceNames?: string[]
}

export interface RuleGroup {
  /** Why knet needs it; printed as a comment above the rule. */
  reason: string
  rule: PolicyRule
}

export const CLUSTER_READ_RULES: readonly RuleGroup[] = [
  {
    reason: 'nodes, pods, services and namespaces: addresses, pod CIDRs, selectors and namespace labels',
    rule: {apiGroups: [''], resources: ['nodes', 'pods', 'services', 'namespaces'], verbs: ['get', 'list']},
  },
  {
    reason: 'EndpointSlices: which pods back each Service, and whether they are ready',
    rule: {apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list']},
  },
  {
    reason: 'NetworkPolicies: what traffic is allowed (optional; policy checks are skipped without it)',
    rule: {apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list']},
  },
  {
    reason: "kube-proxy's configuration: proxy mode and cluster CIDR (optional; this one ConfigMap only)",
    rule: {apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['kube-proxy']},
  },
  {
    reason: 'DaemonSets: recognise the CNI plugin and kube-proxy, wherever they are installed (optional)',
    rule: {apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['list']},
  },
  {
    reason: "ServiceCIDRs: the cluster's Service ranges, Kubernetes 1.33+ (optional; without it the range is guessed from the kubernetes Service's IP)",
    rule: {apiGroups: ['networking.k8s.io'], resources: ['servicecidrs'], verbs: ['list']},
  },
  {
    reason: "Calico's IPAMBlocks: which node holds which pod address block (optional; without it blocks are read from the nodes' routes)",
    rule: {apiGroups: ['crd.projectcalico.org'], resources: ['ipamblocks'], verbs: ['list']},
  },
]

/**
 * What each --node-access mode adds to the read rules. pod and agent exec into pods; pod also
 * creates and deletes its own (and `knet cleanup` lists and deletes what a killed run left).
 * ssh, docker, local, netns and none reach nodes without the API, so they add nothing.
 * pods/exec also has get: API servers before 1.31 authorise the WebSocket exec (an HTTP GET) as
 * get, newer ones as create.
 */
export const NODE_ACCESS_RULES: Readonly<Record<'pod' | 'agent', readonly RuleGroup[]>> = {
  pod: [
    {
      reason: "--node-access pod and knet cleanup: create knet's short-lived node pods, wait for them to run, delete them (list finds a killed run's leftovers)",
      rule: {apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'get', 'list']},
    },
    {
      reason: "--node-access pod: run the read-only command catalogue in knet's node pods",
      rule: {apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get']},
    },
  ],
  agent: [
    {
      reason: '--node-access agent: run the read-only command catalogue in the existing agent pods (--agent-selector)',
      rule: {apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get']},
    },
  ],
}

/**
 * `trace --probe` on a live cluster: exec in the source pod to send the real packet, and, when the
 * pod has no tool to send it with, add an ephemeral container to it (the one write knet makes to
 * a workload; Kubernetes never lets it be removed). Getting the pod is already in the read rules.
 */
export const PROBE_RULES: readonly RuleGroup[] = [
  {
    reason: 'trace --probe: send the real packet from the source pod (nc, curl, wget, bash or ping, through exec)',
    rule: {apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get']},
  },
  {
    reason: 'trace --probe: add an ephemeral debug container to a source pod that has no tool to send the packet with (it cannot be removed; it stops by itself)',
    rule: {apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch']},
  },
]

/** The rule groups a mode needs: the read rules plus the mode's own, plus trace --probe's. */
export function ruleGroupsFor(mode: string | undefined, options: {probe?: boolean} = {}): RuleGroup[] {
  const extra = mode === 'pod' || mode === 'agent' ? NODE_ACCESS_RULES[mode] : []
  return [...CLUSTER_READ_RULES, ...extra, ...(options.probe ? PROBE_RULES : [])]
}

export interface RoleOptions {
  name?: string
  groups?: readonly RuleGroup[]
}

/** The ClusterRole as a YAML document, each rule preceded by a comment giving its reason. */
export function clusterRoleYaml(options: RoleOptions = {}): string {
  const name = options.name ?? 'knet-reader'
  const groups = options.groups ?? CLUSTER_READ_RULES
  const header = stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {name, labels: {'app.kubernetes.io/name': 'knet'}},
  })
  const rules = groups
    .map((g) => {
      const item = stringify([g.rule]).trimEnd().split('\n').map((l) => `  ${l}`).join('\n')
      return `  # ${g.reason}\n${item}`
    })
    .join('\n')
  return `# The minimal permissions for knet (read-only; no Secrets).\n${header}rules:\n${rules}\n`
}
