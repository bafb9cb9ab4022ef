/**
 * When a real lab is ready: what `lab up` waits for after creating the workload, each a check
 * that returns what is still missing (empty = ready) so a timeout can say exactly what.
 *   - EndpointSlices (from the real controller) list the plan's endpoints, ready (on a dual-stack
 *     lab both addresses of each: the controller writes one slice per family);
 *   - every node's kube-proxy has programmed a DNAT to every endpoint, in each family's ruleset;
 *   - every node routes every other node's pod CIDR, in each family (flannel's doing).
 */
import {tryRun} from '../exec.js'
import type {Family, LabPlan} from '../plan.js'
import type {LabApi} from './api.js'
import type {ProxyMode} from './configs.js'

export const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by'
export const CONTROLLER = 'endpointslice-controller.k8s.io'

interface SliceLike {
  metadata?: {labels?: Record<string, string>; namespace?: string}
  endpoints?: {addresses?: string[]; conditions?: {ready?: boolean}}[] | null
}

export function missingEndpoints(plan: LabPlan, slices: SliceLike[]): string[] {
  const missing: string[] = []
  for (const svc of plan.services) {
    if (Object.keys(svc.selector).length === 0) continue
    const mine = slices.filter((s) => s.metadata?.namespace === svc.namespace && s.metadata?.labels?.['kubernetes.io/service-name'] === svc.name && s.metadata?.labels?.[MANAGED_BY] === CONTROLLER)
    const ready = new Set(mine.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready === true).flatMap((e) => e.addresses ?? [])))
    const addresses = svc.endpoints.flatMap((ep) => [{ip: ep.ip, pod: ep.pod}, ...(svc.clusterIP6 && ep.ip6 ? [{ip: ep.ip6, pod: ep.pod}] : [])])
    for (const ep of addresses) if (!ready.has(ep.ip)) missing.push(`EndpointSlice of ${svc.namespace}/${svc.name} lacks ready ${ep.ip} (${ep.pod})`)
  }
  return missing
}

export async function endpointSlicesMissing(api: LabApi, plan: LabPlan): Promise<string[]> {
  const {items} = await api.list('discovery.k8s.io/v1', 'EndpointSlice')
  return missingEndpoints(plan, items as SliceLike[])
}

/** IP:PORT pairs kube-proxy must DNAT to: each endpoint of each Service port ([IP]:PORT in IPv6). */
export function expectedDnatTargets(plan: LabPlan, family: Family = 4): string[] {
  const targets = plan.services.flatMap((s) =>
    family === 6 ? (s.clusterIP6 ? s.ports.flatMap((p) => s.endpoints.flatMap((e) => (e.ip6 ? [`[${e.ip6}]:${p.targetPort}`] : []))) : []) : s.ports.flatMap((p) => s.endpoints.map((e) => `${e.ip}:${p.targetPort}`)),
  )
  return [...new Set(targets)].sort()
}

/**
 * The DNAT targets in a node's ruleset: iptables-save's --to-destination; nft's `dnat to IP:PORT`
 * or, as kube-proxy's nftables mode writes a Service's endpoints inline, the `IP . PORT` elements
 * of a `dnat ip to numgen random mod N map { … }`.
 */
export function dnatTargets(mode: ProxyMode, ruleset: string): Set<string> {
  if (mode === 'iptables') return new Set([...ruleset.matchAll(/--to-destination (\d+\.\d+\.\d+\.\d+:\d+|\[[0-9a-f:]+\]:\d+)/g)].map((m) => m[1] as string))
  const out = new Set<string>()
  for (const line of ruleset.split('\n')) {
    if (!/\bdnat\b/.test(line)) continue
    for (const m of line.matchAll(/(\d+\.\d+\.\d+\.\d+)(?::| \. )(\d+)/g)) out.add(`${m[1]}:${m[2]}`)
    // ip6 tables: `dnat ip6 to [ADDR]:PORT`, or `ADDR . PORT` map elements.
    for (const m of line.matchAll(/\[([0-9a-f:]+)\]:(\d+)|(?<![0-9a-f:.])([0-9a-f]*:[0-9a-f:]*:[0-9a-f:]*) \. (\d+)/g)) out.add(`[${m[1] ?? m[3]}]:${m[2] ?? m[4]}`)
  }
  return out
}

/** The argv that reads kube-proxy's ruleset of one family on a node. */
export function proxyRulesetArgv(netns: string, mode: ProxyMode, family: Family = 4): string[] {
  if (mode === 'iptables') return ['ip', 'netns', 'exec', netns, family === 6 ? 'ip6tables-save' : 'iptables-save', '-t', 'nat']
  return ['ip', 'netns', 'exec', netns, 'nft', 'list', 'table', family === 6 ? 'ip6' : 'ip', 'kube-proxy']
}

export async function proxyRulesMissing(plan: LabPlan, mode: ProxyMode): Promise<string[]> {
  const missing: string[] = []
  for (const family of plan.ipFamilies) {
    const want = expectedDnatTargets(plan, family)
    for (const node of plan.nodes) {
      const have = dnatTargets(mode, (await tryRun(proxyRulesetArgv(node.netns, mode, family))).stdout)
      const lacking = want.filter((t) => !have.has(t))
      if (lacking.length > 0) missing.push(`kube-proxy on ${node.name} has no DNAT to ${lacking.join(', ')}`)
    }
  }
  return missing
}

export async function podRoutesMissing(plan: LabPlan): Promise<string[]> {
  const missing: string[] = []
  for (const family of plan.ipFamilies) {
    for (const node of plan.nodes) {
      const r = await tryRun(['ip', `-${family}`, '-n', node.netns, '-j', 'route', 'show'])
      const dsts = new Set((JSON.parse(r.stdout || '[]') as {dst?: string}[]).map((x) => x.dst))
      for (const other of plan.nodes) {
        const cidr = family === 6 ? other.v6?.podCIDR : other.podCIDR
        if (other !== node && cidr && !dsts.has(cidr)) missing.push(`${node.name} has no route to ${other.name}'s ${cidr}`)
      }
    }
  }
  return missing
}
