import {arr, buildEach, intOrString, meta, num, protocol, rec, str, stringMap, strings, type ModelProblem, type Protocol} from './read.js'

export interface LabelSelector {
  matchLabels: Record<string, string>
  matchExpressions: {key: string; operator: string; values: string[]}[]
}

export interface PolicyPeer {
  podSelector?: LabelSelector
  namespaceSelector?: LabelSelector
  ipBlock?: {cidr: string; except: string[]}
}

export interface PolicyPort {
  protocol: Protocol
  /** Number or named container port; undefined means all ports. */
  port?: number | string
  endPort?: number
}

export interface PolicyRule {
  ports: PolicyPort[]
  /** Empty means all sources (ingress) / destinations (egress). */
  peers: PolicyPeer[]
}

export interface NetworkPolicyModel {
  namespace: string
  name: string
  podSelector: LabelSelector
  policyTypes: ('Ingress' | 'Egress')[]
  ingress: PolicyRule[]
  egress: PolicyRule[]
}

export function selector(v: unknown): LabelSelector {
  const r = rec(v)
  return {
    matchLabels: stringMap(r.matchLabels),
    matchExpressions: arr(r.matchExpressions).map((e) => {
      const er = rec(e)
      return {key: str(er.key) ?? '', operator: str(er.operator) ?? '', values: strings(er.values)}
    }),
  }
}

function rules(v: unknown, peerKey: 'from' | 'to'): PolicyRule[] {
  return arr(v).map((rule) => {
    const r = rec(rule)
    return {
      ports: arr(r.ports).map((p) => {
        const pr = rec(p)
        const port = intOrString(pr.port)
        const endPort = num(pr.endPort)
        return {protocol: protocol(pr.protocol), ...(port === undefined ? {} : {port}), ...(endPort === undefined ? {} : {endPort})}
      }),
      peers: arr(r[peerKey]).map((peer) => {
        const pr = rec(peer)
        const block = pr.ipBlock === undefined ? undefined : rec(pr.ipBlock)
        return {
          ...(pr.podSelector === undefined || pr.podSelector === null ? {} : {podSelector: selector(pr.podSelector)}),
          ...(pr.namespaceSelector === undefined || pr.namespaceSelector === null ? {} : {namespaceSelector: selector(pr.namespaceSelector)}),
          ...(block ? {ipBlock: {cidr: str(block.cidr) ?? '', except: strings(block.except)}} : {}),
        }
      }),
    }
  })
}

export function buildNetworkPolicies(raw: unknown[], problems: ModelProblem[], release = false): NetworkPolicyModel[] {
  return buildEach(raw, (obj, i) => policyOf(obj, i, problems), release)
}

function policyOf(obj: unknown, i: number, problems: ModelProblem[]): NetworkPolicyModel | undefined {
  const m = meta(obj)
  if (!m) return void problems.push({subject: `networkPolicies[${i}]`, message: 'NetworkPolicy without metadata.name ignored'})
  const spec = rec(rec(obj).spec)
  const ingress = rules(spec.ingress, 'from')
  const egress = rules(spec.egress, 'to')
  let policyTypes = strings(spec.policyTypes).filter((t): t is 'Ingress' | 'Egress' => t === 'Ingress' || t === 'Egress')
  // The API server defaults policyTypes this way; hand-written files may omit it.
  if (policyTypes.length === 0) policyTypes = Array.isArray(spec.egress) ? ['Ingress', 'Egress'] : ['Ingress']
  return {namespace: m.namespace, name: m.name, podSelector: selector(spec.podSelector), policyTypes, ingress, egress}
}

/** Kubernetes label-selector semantics: every matchLabels pair and every matchExpression must hold. */
export function selectorMatches(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  if (!Object.entries(sel.matchLabels).every(([k, v]) => labels[k] === v)) return false
  return sel.matchExpressions.every((e) => {
    const has = Object.hasOwn(labels, e.key)
    const v = labels[e.key]
    switch (e.operator) {
      case 'In':
        return has && e.values.includes(v as string)
      case 'NotIn':
        return !has || !e.values.includes(v as string)
      case 'Exists':
        return has
      case 'DoesNotExist':
        return !has
      default:
        return false
    }
  })
}
