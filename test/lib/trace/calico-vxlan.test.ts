/**
 * Calico VXLAN from the captured calico-vxlan lab (fixtures/README.md): the nodes' ranges come from
 * the IPAMBlock objects the lab serves, and calico-node's Node annotations
 * (projectcalico.org/IPv4VXLANTunnelAddr, IPv4Address) name each node's VTEP. Trace names the remote
 * node's tunnel address from them; a route to a remote block via a tunnel address no Node carries (a
 * replaced node's) is route-nexthop-wrong in trace and doctor, naming both addresses. Without the
 * annotations the same route is what it looks like on the node: a VTEP with no neighbour entry.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {buildModel} from '../../../src/lib/model/model.js'
import {podRanges} from '../../../src/lib/model/pod-ranges.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
const trace = (s: Snapshot, src: string, dst: string): TraceResult => traceSnapshot(s, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})

type Json = Record<string, unknown>

function editJson(snapshot: Snapshot, node: string, id: string, change: (value: Json[]) => Json[]): void {
  const r = snapshot.nodes.find((n) => n.name === node)?.results.find((x) => x.id === id)
  if (!r) throw new Error(`no ${id} on ${node}`)
  r.stdout = JSON.stringify(change(JSON.parse(r.stdout) as Json[]))
}

/** node-1's route to node-2's block 10.244.102.64/26 through `via` instead of node-2's tunnel address. */
function routedVia(base: Snapshot, via: string): Snapshot {
  const s = structuredClone(base)
  editJson(s, 'node-1', 'routes4', (routes) => routes.map((r) => (r.dst === '10.244.102.64/26' ? {...r, gateway: via} : r)))
  return s
}

function withoutAnnotations(base: Snapshot): Snapshot {
  const s = structuredClone(base)
  for (const n of s.cluster?.objects.nodes ?? []) delete (n as {metadata: {annotations?: unknown}}).metadata.annotations
  return s
}

const findings = (s: Snapshot) => runDoctor(s, CHECKS).findings.map((f) => ({check: f.check, node: f.node, message: f.message, evidence: f.evidence.map((e) => `${e.source}: ${e.text}`)}))

describe('Calico VXLAN: IPAMBlocks and Node annotations, from the captured lab', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = await readSnapshot(fixture('lab-calico-vxlan.json.gz'))
  })

  it("the nodes' ranges are the IPAMBlock objects' host affinities; doctor finds nothing", () => {
    const ranges = podRanges(buildModel(snap)).ranges.map((r) => [r.owner.name, r.cidr.text, r.origin?.source, r.origin?.text])
    expect(ranges).toEqual([
      ['node-1', '10.244.101.64/26', 'api: IPAMBlock 10-244-101-64-26 spec.affinity', 'host:node-1 (spec.cidr 10.244.101.64/26)'],
      ['node-2', '10.244.102.64/26', 'api: IPAMBlock 10-244-102-64-26 spec.affinity', 'host:node-2 (spec.cidr 10.244.102.64/26)'],
    ])
    expect(buildModel(snap).cluster?.nodes.map((n) => [n.name, n.calico])).toEqual([
      ['node-1', {ipv4Address: '10.100.0.2', ipv4VxlanTunnelAddr: '10.244.101.64'}],
      ['node-2', {ipv4Address: '10.100.0.3', ipv4VxlanTunnelAddr: '10.244.102.64'}],
    ])
    expect(findings(snap)).toEqual([])
  })

  it("trace names the remote node's VTEP from its projectcalico.org/IPv4VXLANTunnelAddr", () => {
    const r = trace(snap, 'web-1-1', 'web-2-2')
    const vxlan = r.hops.find((h) => h.label === 'node-1 vxlan.calico')
    expect([r.verdict, vxlan?.action, vxlan?.evidence.at(-1)]).toEqual([
      'delivered',
      'encapsulated in VXLAN VNI 4096 to VTEP 10.100.0.3; inner MTU 1450, 1450 left after encapsulation on eth0; 10.244.102.64 is node-2\'s VXLAN tunnel address',
      {source: 'api: Node node-2 metadata.annotations', text: 'projectcalico.org/IPv4VXLANTunnelAddr: 10.244.102.64'},
    ])
  })

  it('a route to a remote block via a tunnel address no Node carries (a replaced node): route-nexthop-wrong in trace and doctor, naming both', () => {
    const stale = routedVia(snap, '10.244.102.70')
    const r = trace(stale, 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual([
      'dropped',
      'route-nexthop-wrong',
      "node-1: route to 10.244.102.66 (on node-2) goes via VTEP 10.244.102.70, which no Node's projectcalico.org/IPv4VXLANTunnelAddr carries (a replaced node's old tunnel address?); node-2's is 10.244.102.64",
    ])
    expect(findings(stale)).toEqual([
      {
        check: 'route-nexthop-wrong',
        node: 'node-1',
        message: "route to node-2's IPAM block 10.244.102.64/26 goes via VTEP 10.244.102.70, which no Node's projectcalico.org/IPv4VXLANTunnelAddr carries (a replaced node's old tunnel address?); node-2's is 10.244.102.64",
        evidence: [
          'node-1: ip -j route show table all: 10.244.102.64/26 via 10.244.102.70 dev vxlan.calico onlink',
          'api: Node node-2 metadata.annotations: projectcalico.org/IPv4VXLANTunnelAddr: 10.244.102.64',
          'api: IPAMBlock 10-244-102-64-26 spec.affinity: host:node-2 (spec.cidr 10.244.102.64/26)',
        ],
      },
    ])
  })

  it("a route via another node's tunnel address names that node", () => {
    const [f] = findings(routedVia(snap, '10.244.101.64'))
    expect([f?.check, f?.node, f?.message, f?.evidence.slice(1, 3)]).toEqual([
      'route-nexthop-wrong',
      'node-1',
      "route to node-2's IPAM block 10.244.102.64/26 goes via VTEP 10.244.101.64, which is node-1's VXLAN tunnel address (projectcalico.org/IPv4VXLANTunnelAddr); node-2's is 10.244.102.64",
      ['api: Node node-2 metadata.annotations: projectcalico.org/IPv4VXLANTunnelAddr: 10.244.102.64', 'api: Node node-1 metadata.annotations: projectcalico.org/IPv4VXLANTunnelAddr: 10.244.101.64'],
    ])
  })

  it('without the annotations the same route is a VTEP with no neighbour entry (route-missing), as the node alone shows it', () => {
    const stale = withoutAnnotations(routedVia(snap, '10.244.102.70'))
    const r = trace(stale, 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code]).toEqual(['dropped', 'route-missing'])
    expect(findings(stale).map((f) => [f.check, f.node, f.message])).toEqual([
      ['route-missing', 'node-1', "no neighbour entry for VTEP 10.244.102.70 on vxlan.calico (route to node-2's IPAM block 10.244.102.64/26)"],
    ])
  })

  it("a lost neighbour entry names the VTEP as the remote node's tunnel address", () => {
    const lost = structuredClone(snap)
    editJson(lost, 'node-1', 'neigh', (entries) => entries.filter((e) => e.dst !== '10.244.102.64'))
    expect(findings(lost).map((f) => [f.check, f.node, f.message])).toEqual([
      ['route-missing', 'node-1', "no neighbour entry for VTEP 10.244.102.64 (node-2's VXLAN tunnel address) on vxlan.calico (route to node-2's IPAM block 10.244.102.64/26)"],
    ])
  })

  it("with neither IPAMBlocks nor node-2's own evidence, node-1's route to node-2's block is attributed by node-2's annotation once its VTEP entries are gone", () => {
    const s = structuredClone(snap)
    delete s.cluster?.objects.ipamBlocks
    s.nodes = s.nodes.filter((n) => n.name === 'node-1')
    editJson(s, 'node-1', 'neigh', (entries) => entries.filter((e) => e.dst !== '10.244.102.64'))
    const ranges = podRanges(buildModel(s)).ranges.map((r) => [r.owner.name, r.cidr.text, r.origin?.text])
    expect(ranges).toEqual([
      ['node-1', '10.244.101.64/26', 'blackhole 10.244.101.64/26'],
      ['node-2', '10.244.102.64/26', '10.244.102.64/26 via 10.244.102.64 dev vxlan.calico onlink'],
    ])
    expect(findings(s).filter((f) => f.check.startsWith('route-')).map((f) => [f.check, f.node])).toEqual([['route-missing', 'node-1']])
  })
})
