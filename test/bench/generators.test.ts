/** The benchmark generators at small sizes: what they write must read back exactly through knet. */
import {describe, expect, it} from 'vitest'
import {natFixture} from '../../bench/generators/kube-proxy.js'
import {clusterEvidence, clusterSnapshot, iptablesNode, snapshotOf} from '../../bench/generators/cluster.js'
import {runDoctor} from '../../src/lib/checks/context.js'
import {CHECKS} from '../../src/lib/checks/registry.js'
import {serviceNat} from '../../src/lib/datapath/netfilter/service-nat.js'
import {buildModel} from '../../src/lib/model/model.js'
import {iptablesTable, parseIptablesSave} from '../../src/lib/parse/iptables-save.js'

describe('kube-proxy dump generator', () => {
  const fixture = natFixture({services: 10, endpoints: 3})

  it('writes a dump knet parses without problems, with one chain per Service port and endpoint', () => {
    const {value, problems} = parseIptablesSave(fixture.restore)
    expect(problems).toEqual([])
    const nat = iptablesTable(value, 'nat')
    const chains = nat?.chains.map((c) => c.name) ?? []
    // 10 generated Services (≈3 pods each, some not ready) plus kubernetes and kube-dns (2 ports).
    expect(fixture.expected.servicePorts + fixture.expected.rejected).toBe(13)
    expect(fixture.expected.endpoints).toBeGreaterThanOrEqual(25)
    expect(chains.filter((c) => c.startsWith('KUBE-SVC-'))).toHaveLength(fixture.expected.servicePorts)
    expect(chains.filter((c) => c.startsWith('KUBE-SEP-'))).toHaveLength(fixture.expected.endpoints)
    const dnat = nat?.chains.flatMap((c) => c.rules).filter((r) => r.target?.kind === 'dnat') ?? []
    expect(dnat).toHaveLength(fixture.expected.endpoints)
    const rejects = iptablesTable(value, 'filter')?.chainIndex.get('KUBE-SERVICES')?.rules.filter((r) => r.target?.kind === 'reject') ?? []
    expect(rejects).toHaveLength(fixture.expected.rejected)
  })

  it('matches its cluster: doctor finds nothing wrong with the NAT rules, and a Service traces to every endpoint', () => {
    const snapshot = snapshotOf(clusterEvidence(fixture.objects), [iptablesNode(fixture.nodeName, fixture.restore)])
    const natChecks = CHECKS.filter((c) => c.id.startsWith('nat-'))
    expect(natChecks.length).toBeGreaterThanOrEqual(3)
    const report = runDoctor(snapshot, natChecks)
    expect(report.findings).toEqual([])
    expect(report.skipped).toEqual([])

    const model = buildModel(snapshot)
    const view = model.index.kubeProxyView(model.nodes[0]!)
    expect(view?.ports).toHaveLength(fixture.expected.servicePorts)
    expect(view?.ports.reduce((n, p) => n + p.targets.length, 0)).toBe(fixture.expected.endpoints)

    const svc = fixture.model.services.find((s) => s.endpoints.filter((e) => e.ready !== false).length >= 2)!
    const dump = model.nodes[0]!.iptables4!
    const nat = serviceNat(dump, {family: 4, src: '10.128.1.5', dst: svc.clusterIP, protocol: 'tcp', dport: 80, inIface: 'cni0', mark: 0, ctstate: 'NEW'}, {localAddresses: new Set(['172.16.0.11'])})
    const ready = svc.endpoints.filter((e) => e.ready !== false).map((e) => e.ip)
    expect(nat.dnat.map((d) => d.ip).sort()).toEqual([...ready].sort())
    expect(nat.dnat.reduce((p, d) => p + d.probability, 0)).toBeCloseTo(1, 9)
  })
})

describe('cluster snapshot generator', () => {
  it('builds a valid snapshot of the requested size', () => {
    const snapshot = clusterSnapshot({nodes: 20, pods: 300, services: 40})
    const model = buildModel(snapshot)
    expect(model.cluster?.nodes).toHaveLength(20)
    expect(model.cluster?.pods.length).toBe(300 + 2) // + the two CoreDNS pods
    expect(model.cluster?.services.length).toBe(40 + 2) // + kubernetes and kube-dns
    expect(model.cluster?.endpointSlices.length).toBeGreaterThanOrEqual(42)
  })
})
