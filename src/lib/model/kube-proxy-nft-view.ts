/**
 * kube-proxy's nftables-mode view of Services on one node (pkg/proxy/nftables): the verdict map
 * `service-ips` sends "ClusterIP . protocol . port" to a chain `service-HASH-ns/name/proto/port`,
 * whose rule DNATs by `numgen random mod N map { i : ip . port }` (or, with session affinity,
 * `numgen random mod N vmap { i : goto endpoint-… }` to chains that `dnat to ip:port`). Service ports
 * without endpoints are elements of `no-endpoint-services` whose comment is "ns/name:port". Chain
 * names carry the Service, so no comment is needed to tie them to it. Dual-stack kube-proxy writes
 * one such table per family, `ip kube-proxy` and `ip6 kube-proxy`, in the same layout (`ip6 daddr`,
 * `ipv6_addr`, `dnat ip6 addr . port`): `family` picks which one is read.
 */
import type {NftElement, NftRule, NftRuleset, NftSet} from '../parse/nft.js'
import {ruleText} from '../datapath/nftables/text.js'
import type {KubeProxyRule, KubeProxyServicePort, KubeProxyTarget, KubeProxyView} from './model.js'

const TABLE = 'kube-proxy'

type Obj = Record<string, unknown>
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * "service-ULMVA6XW-ns1/svc1/tcp/p80" (also external-, local-, endpoint-…__ip/port) → the Service port
 * it implements, as kube-proxy's ServicePortName ("ns1/svc1:p80") and protocol.
 */
export function nftChainServicePort(chain: string): {portName: string; namespace: string; name: string; port: string; protocol: string} | undefined {
  const m = /^(?:service|external|local|endpoint|firewall)-[A-Z2-7]{8}-([^/]+)\/([^/]+)\/([a-z]+)\/([^_/]*)/.exec(chain)
  if (!m) return undefined
  const [, namespace, name, protocol, port] = m as unknown as [string, string, string, string, string]
  return {portName: port ? `${namespace}/${name}:${port}` : `${namespace}/${name}`, namespace, name, port, protocol}
}

function where(r: NftRule): string {
  return `${r.family} ${r.table} ${r.chain} handle ${r.handle}`
}

function elementRule(set: NftSet, e: NftElement): KubeProxyRule {
  const v = e.verdict && 'target' in e.verdict ? `${e.verdict.verb} ${e.verdict.target}` : e.verdict?.verb ?? ''
  return {text: `${set.family} ${set.table} map ${set.name}: element { ${e.keyText}${e.comment ? ` comment "${e.comment}"` : ''} : ${v} }`, line: set.handle}
}

function scalarPair(v: unknown): {ip: string; port?: number} | undefined {
  if (isObj(v) && Array.isArray(v.concat) && typeof v.concat[0] === 'string') {
    return typeof v.concat[1] === 'number' ? {ip: v.concat[0], port: v.concat[1]} : {ip: v.concat[0]}
  }
  return typeof v === 'string' ? {ip: v} : undefined
}

/** The DNAT targets a rule writes: `dnat … to numgen … map { i : ip . port }` or `dnat to ip:port`. */
function dnatTargets(rule: NftRule, chain: string): KubeProxyTarget[] {
  const out: KubeProxyTarget[] = []
  for (const st of rule.expr) {
    if (!isObj(st) || !isObj(st.dnat)) continue
    const addr = st.dnat.addr
    const port = typeof st.dnat.port === 'number' ? st.dnat.port : undefined
    const body = ruleText(rule)
    if (isObj(addr) && isObj(addr.map) && isObj(addr.map.data) && Array.isArray(addr.map.data.set)) {
      const items = addr.map.data.set
      const mod = items.length
      items.forEach((item) => {
        if (!Array.isArray(item) || item.length !== 2) return
        const t = scalarPair(item[1])
        if (!t) return
        const shown = mod > 1 ? body.replace(/map \{ .* \}$/, `map { …, ${String(item[0])} : ${t.ip}${t.port === undefined ? '' : ` . ${t.port}`}, … }`) : body
        out.push({...t, ...(port === undefined ? {} : {port}), chain, rule: {text: `${where(rule)}: ${shown}`, line: rule.handle}})
      })
    } else {
      const t = scalarPair(addr)
      if (t) out.push({...t, ...(port === undefined ? {} : {port}), chain, rule: {text: `${where(rule)}: ${body}`, line: rule.handle}})
    }
  }
  return out
}

export function readKubeProxyNftView(node: string, source: string, rs: NftRuleset, family = 'ip'): KubeProxyView | undefined {
  if (!rs.tables.some((t) => t.family === family && t.name === TABLE)) return undefined
  const rulesByChain = new Map<string, NftRule[]>()
  for (const r of rs.rules) {
    if (r.family !== family || r.table !== TABLE) continue
    const list = rulesByChain.get(r.chain)
    if (list) list.push(r)
    else rulesByChain.set(r.chain, [r])
  }
  const sets = new Map<string, NftSet>()
  for (const s of rs.sets) if (s.family === family && s.table === TABLE) sets.set(s.name, s)

  const targetsOf = (chain: string, depth = 0): KubeProxyTarget[] => {
    const out: KubeProxyTarget[] = []
    for (const r of rulesByChain.get(chain) ?? []) {
      out.push(...dnatTargets(r, chain))
      // Session affinity: the Service chain picks an endpoint chain, which holds the DNAT.
      if (depth === 0) {
        for (const j of r.jumps) if (j.target.startsWith('endpoint-') && !out.some((t) => t.chain === j.target)) out.push(...targetsOf(j.target, 1))
      }
    }
    return out
  }

  const ports: KubeProxyServicePort[] = []
  const byKey = new Map<string, KubeProxyServicePort>()
  const serviceIps = sets.get('service-ips')
  for (const e of serviceIps?.elements ?? []) {
    const v = e.verdict
    if (!v || !('target' in v) || !v.target.startsWith('service-')) continue
    const sp = nftChainServicePort(v.target)
    if (!sp) continue
    const key = `${sp.portName}|${sp.protocol}`
    if (byKey.has(key)) continue
    const k = isObj(e.key) && Array.isArray(e.key.concat) ? e.key.concat : []
    const clusterIP = typeof k[0] === 'string' ? k[0] : undefined
    const entry: KubeProxyServicePort = {
      portName: sp.portName, namespace: sp.namespace, name: sp.name, port: sp.port, protocol: sp.protocol,
      ...(clusterIP === undefined ? {} : {clusterIP}), chain: v.target, rule: elementRule(serviceIps as NftSet, e), targets: targetsOf(v.target),
    }
    byKey.set(key, entry)
    ports.push(entry)
  }
  const noEndpoints: KubeProxyView['noEndpoints'] = []
  const none = sets.get('no-endpoint-services')
  for (const e of none?.elements ?? []) {
    if (!e.comment) continue
    if (noEndpoints.some((n) => n.portName === e.comment)) continue
    noEndpoints.push({portName: e.comment, rule: elementRule(none as NftSet, e)})
  }
  return {node, source, mode: 'nftables', ports, byKey, noEndpoints}
}
