/**
 * kube-proxy's iptables-mode view of Services on one node, read structurally: KUBE-SERVICES jumps
 * to KUBE-SVC-* chains (comment "ns/name:port cluster IP"), which jump to KUBE-SEP-* chains holding
 * the DNAT. Chain names are hashes, so the comment is what ties a chain to its Service.
 *
 * doctor reads this for every node before any NAT check runs (the runner asks each node's mode),
 * over tens of thousands of chains on a large node, so it is written as plain loops: no regular
 * expression, spread or Set per Service.
 */
import type {IptablesRule, IptablesDump, IptablesTable} from '../parse/iptables-save.js'
import type {KubeProxyRule, KubeProxyServicePort, KubeProxyTarget, KubeProxyView} from './model.js'

const CLUSTER_IP = ' cluster IP'
const NO_ENDPOINTS = ' has no endpoints'

function commentOf(rule: IptablesRule): string | undefined {
  for (const m of rule.matches) if (m.kind === 'comment') return m.comment
  return undefined
}

function ruleRef(rule: IptablesRule): KubeProxyRule {
  return {text: rule.raw, line: rule.line}
}

function tableOf(dump: IptablesDump, name: string): IptablesTable | undefined {
  for (const t of dump.tables) if (t.name === name) return t
  return undefined
}

/** "ns/name:port" → parts; undefined for anything else. */
export function splitPortName(portName: string): {namespace: string; name: string; port: string} | undefined {
  const slash = portName.indexOf('/')
  if (slash <= 0) return undefined
  const colon = portName.indexOf(':', slash + 1)
  const name = colon < 0 ? portName.slice(slash + 1) : portName.slice(slash + 1, colon)
  if (!name) return undefined
  return {namespace: portName.slice(0, slash), name, port: colon < 0 ? '' : portName.slice(colon + 1)}
}

/** The address of a /32 or /128 destination as kube-proxy writes a cluster IP; other CIDRs as written. */
function hostOf(cidr: string): string {
  if (cidr.endsWith('/32')) return cidr.slice(0, -3)
  if (cidr.endsWith('/128')) return cidr.slice(0, -4)
  return cidr
}

/** The DNAT targets of one KUBE-SVC chain: each KUBE-SEP chain it jumps to, once, in rule order. */
function targetsOf(nat: IptablesTable, svcChain: string, unreadable: {rule?: KubeProxyRule}): KubeProxyTarget[] {
  const targets: KubeProxyTarget[] = []
  const svc = nat.chainIndex.get(svcChain)
  if (svc === undefined) return targets
  for (const r of svc.rules) if (r.unreadable !== undefined) unreadable.rule ??= ruleRef(r)
  // Chains already read: a KUBE-SVC chain jumps to each endpoint's chain once, so a list is enough
  // unless the Service has many endpoints.
  const seen: string[] | Set<string> = svc.rules.length > 32 ? new Set<string>() : []
  for (const jump of svc.rules) {
    const jt = jump.target
    if (jt === null || jt.kind !== 'chain') continue
    const chain = jt.chain
    if (!chain.startsWith('KUBE-SEP-')) continue
    if (Array.isArray(seen)) {
      if (seen.includes(chain)) continue
      seen.push(chain)
    } else {
      if (seen.has(chain)) continue
      seen.add(chain)
    }
    const sep = nat.chainIndex.get(chain)
    if (sep === undefined) continue
    for (const sepRule of sep.rules) {
      if (sepRule.unreadable !== undefined) unreadable.rule ??= ruleRef(sepRule)
      const st = sepRule.target
      if (st === null || st.kind !== 'dnat' || st.to === null || !st.to.addrFrom) continue
      const ports = st.to.ports
      const rule = ruleRef(sepRule)
      targets.push(ports ? {ip: st.to.addrFrom, port: ports.from, chain, rule} : {ip: st.to.addrFrom, chain, rule})
    }
  }
  return targets
}

export function readKubeProxyView(node: string, source: string, dump: IptablesDump): KubeProxyView {
  const nat = tableOf(dump, 'nat')
  const filter = tableOf(dump, 'filter')
  const ports: KubeProxyServicePort[] = []
  const byKey = new Map<string, KubeProxyServicePort>()
  const services = nat?.chainIndex.get('KUBE-SERVICES')
  if (nat !== undefined && services !== undefined) {
    for (const rule of services.rules) {
      const t = rule.target
      if (t === null || t.kind !== 'chain' || !t.chain.startsWith('KUBE-SVC-')) continue
      const comment = commentOf(rule) ?? ''
      const portName = comment.endsWith(CLUSTER_IP) ? comment.slice(0, -CLUSTER_IP.length) : comment
      const parts = splitPortName(portName)
      if (!parts) continue
      const protocol = rule.protocol?.name ?? 'tcp'
      const key = `${portName}|${protocol}`
      // The same port can appear for several cluster IPs (dual-stack is per family, so rarely); keep the first.
      if (byKey.has(key)) continue
      const unreadable: {rule?: KubeProxyRule} = {}
      const targets = targetsOf(nat, t.chain, unreadable)
      const clusterIP = rule.dst && !rule.dst.negated ? hostOf(rule.dst.cidr) : undefined
      const {namespace, name, port} = parts
      const entry: KubeProxyServicePort = clusterIP
        ? {portName, namespace, name, port, protocol, clusterIP, chain: t.chain, rule: ruleRef(rule), targets}
        : {portName, namespace, name, port, protocol, chain: t.chain, rule: ruleRef(rule), targets}
      if (unreadable.rule) entry.unreadable = unreadable.rule
      byKey.set(key, entry)
      ports.push(entry)
    }
  }
  const noEndpoints: KubeProxyView['noEndpoints'] = []
  for (const rule of filter?.chainIndex.get('KUBE-SERVICES')?.rules ?? []) {
    const comment = commentOf(rule)
    if (comment === undefined || !comment.endsWith(NO_ENDPOINTS) || rule.target?.kind !== 'reject') continue
    // As /^(.*) has no endpoints$/: a name on one line.
    const m = /^(.*) has no endpoints$/.exec(comment)
    if (m?.[1]) noEndpoints.push({portName: m[1], rule: ruleRef(rule)})
  }
  return {node, source, mode: 'iptables', ports, byKey, noEndpoints}
}
