/**
 * cidr-overlap on a dual-stack cluster: each node has an IPv4 and an IPv6 pod range
 * (spec.podCIDRs), the kubernetes Service an IPv4 and an IPv6 ClusterIP. Ranges are compared
 * within their family only, and the Service range no ServiceCIDR object gives is assumed per family.
 */
import {describe, expect, test} from 'vitest'
import {cidrOverlap} from '../../../src/lib/checks/cidr-overlap.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {NODES, run, snapshotOf} from './fixtures.js'

type Obj = {metadata: {name: string}; spec: Record<string, unknown>}

/** The fixture cluster with each node's IPv6 pod range after its IPv4 one, and kubernetes' ClusterIPs as given. */
function dualStack(v6PodCIDRs: Record<string, string>, kubernetesIPs: string[] = ['172.20.0.1', 'fd00:10:96::1'], serviceCIDRs?: string[]): Snapshot {
  const snapshot = snapshotOf({nodes: []})
  const objects = snapshot.cluster!.objects
  for (const n of objects.nodes as Obj[]) {
    const v4 = NODES.find((x) => x.name === n.metadata.name)?.podCIDR as string
    n.spec.podCIDRs = [v4, v6PodCIDRs[n.metadata.name] as string]
  }
  const kubernetes = (objects.services as Obj[]).find((s) => s.metadata.name === 'kubernetes') as Obj
  Object.assign(kubernetes.spec, {clusterIP: kubernetesIPs[0], clusterIPs: kubernetesIPs, ipFamilies: kubernetesIPs.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'))})
  if (serviceCIDRs) objects.serviceCIDRs = [{apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: {name: 'kubernetes'}, spec: {cidrs: serviceCIDRs}}]
  return snapshot
}

const HEALTHY = {'node-1': 'fd00:10:244:1::/64', 'node-2': 'fd00:10:244:2::/64', 'node-3': 'fd00:10:244:3::/64'}
const brief = (findings: ReturnType<typeof run>['findings']) => findings.map((f) => [f.family ?? 4, f.message, f.evidence.map((e) => e.text)])

describe('cidr-overlap, dual-stack', () => {
  test('healthy: both families of pod ranges and both assumed Service ranges, no overlap', () => {
    expect(run(cidrOverlap, dualStack(HEALTHY))).toEqual({findings: [], skipped: []})
  })

  test("an IPv6 pod range inside the IPv6 Service range (assumed: the /112 kubernetes' fd00:10:96::1 is first of), and one IPv6 pod range on two nodes", () => {
    const {findings} = run(cidrOverlap, dualStack({...HEALTHY, 'node-2': 'fd00:10:96::100/120', 'node-3': 'fd00:10:244:1::/64'}))
    expect(brief(findings)).toEqual([
      [6, 'pod CIDR fd00:10:244:1::/64 is allocated to 2 nodes: node-1, node-3', ['fd00:10:244:1::/64', 'fd00:10:244:1::/64']],
      [6, 'Service CIDR fd00:10:96::/112 (assumed) overlaps pod CIDR fd00:10:96::100/120 of node-2', [
        'fd00:10:96::1 (Service CIDR fd00:10:96::/112 assumed: the kubernetes Service has fd00:10:96::1, the first address of this /112 (the usual IPv6 Service range size; kube-apiserver allows up to a /108))',
        'fd00:10:96::100/120',
      ]],
    ])
    expect(findings[1]?.evidence.map((e) => e.source)).toEqual(['api: Service default/kubernetes spec.clusterIPs[1]', 'api: Node node-2 spec.podCIDRs[1]'])
  })

  test('no overlap across families: an IPv6 range whose bits equal an IPv4 range inside the Service range (::172.20.9.0/120)', () => {
    // As integers ::ac14:900/120 lies inside 172.20.0.0/16, the assumed IPv4 Service range.
    expect(run(cidrOverlap, dualStack({...HEALTHY, 'node-3': '::ac14:900/120'})).findings).toEqual([])
  })

  test('an IPv6-primary kubernetes Service: both families still assumed, each from its own ClusterIP', () => {
    const {findings} = run(cidrOverlap, dualStack({...HEALTHY, 'node-2': 'fd00:10:96::100/120'}, ['fd00:10:96::1', '172.20.0.1']))
    expect(findings.map((f) => [f.family ?? 4, f.message, f.evidence[0]?.source])).toEqual([
      [6, 'Service CIDR fd00:10:96::/112 (assumed) overlaps pod CIDR fd00:10:96::100/120 of node-2', 'api: Service default/kubernetes spec.clusterIPs[0]'],
    ])
    // The IPv4 range is assumed too: node-1's IPv4 pod range moved inside 172.20.0.0/16 is found.
    const v4 = dualStack(HEALTHY, ['fd00:10:96::1', '172.20.0.1'])
    ;(v4.cluster!.objects.nodes as Obj[])[0]!.spec.podCIDRs = ['172.20.9.0/24', HEALTHY['node-1']]
    expect(run(cidrOverlap, v4).findings.map((f) => [f.family ?? 4, f.message, f.evidence[0]?.source])).toEqual([
      [4, 'Service CIDR 172.20.0.0/16 (assumed) overlaps pod CIDR 172.20.9.0/24 of node-1', 'api: Service default/kubernetes spec.clusterIPs[1]'],
    ])
  })

  test('per family: a ServiceCIDR giving only the IPv4 range leaves the IPv6 one assumed; no guess from an address that starts no /112', () => {
    const overlapping = {...HEALTHY, 'node-2': 'fd00:10:96::100/120'}
    expect(run(cidrOverlap, dualStack(overlapping, undefined, ['172.20.0.0/16'])).findings.map((f) => f.message)).toEqual([
      'Service CIDR fd00:10:96::/112 (assumed) overlaps pod CIDR fd00:10:96::100/120 of node-2',
    ])
    // Given by the cluster, the IPv6 range is not assumed: only the ServiceCIDR's word counts.
    expect(run(cidrOverlap, dualStack(overlapping, undefined, ['172.20.0.0/16', 'fd00:10:96::/120'])).findings.map((f) => f.message)).toEqual([])
    expect(run(cidrOverlap, dualStack(overlapping, ['172.20.0.1', 'fd00:10:96::5'])).findings).toEqual([])
  })
})
