/**
 * One calico-vxlan lab (Calico's layout: a /26 IPAM block per node with its blackhole, cali* veths
 * answering ARP for 169.254.1.1 by proxy, /32 routes, vxlan.calico with onlink routes and permanent
 * neighbour and FDB entries; 2 nodes × 2 pods) for the lab's probes, `knet trace` and `knet doctor`:
 * every fault that applies is broken once (test/lib/lab/lab-faults-suite.ts, expectations in
 * fault-cases.ts), including proxy-arp-off and missing-fdb; the bridge faults are refused. The lab
 * serves Calico's IPAMBlock objects and Node annotations, and doctor reads the ranges from them; a
 * route to a block through a tunnel address no Node carries is route-nexthop-wrong. Root only.
 */
import {execFileSync} from 'node:child_process'
import {expect, it} from 'vitest'
import {CHECKS} from '../../src/lib/checks/registry.js'
import {runDoctor} from '../../src/lib/checks/context.js'
import {buildModel} from '../../src/lib/model/model.js'
import {podRanges} from '../../src/lib/model/pod-ranges.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {assertNothingLeft, probeAll} from '../lib/lab/lab-harness.js'
import {labFaultsSuite} from '../lib/lab/lab-faults-suite.js'
import {captureLab, traceIn} from '../lib/trace/trace-lab-helpers.js'

labFaultsSuite({
  topology: 'calico-vxlan',
  tag: 'tfc',
  more: (lab) => {
    it("the nodes' ranges come from the IPAMBlock objects the lab serves; a route through a tunnel address no Node's annotation carries is route-nexthop-wrong (trace, doctor, real packets)", async () => {
      const healthy = buildModel(await captureLab(lab.name, lab.root))
      expect(podRanges(healthy).ranges.map((r) => [r.owner.name, r.cidr.text, r.origin?.source])).toEqual([
        ['node-1', '10.244.101.64/26', 'api: IPAMBlock 10-244-101-64-26 spec.affinity'],
        ['node-2', '10.244.102.64/26', 'api: IPAMBlock 10-244-102-64-26 spec.affinity'],
      ])
      expect(healthy.cluster?.nodes.map((n) => [n.name, n.calico])).toEqual([
        ['node-1', {ipv4Address: '10.100.0.2', ipv4VxlanTunnelAddr: '10.244.101.64'}],
        ['node-2', {ipv4Address: '10.100.0.3', ipv4VxlanTunnelAddr: '10.244.102.64'}],
      ])
      // node-1 keeps routing node-2's block to a tunnel address node-2 no longer has (a replaced node's).
      const n1 = lab.plan.nodes[0]?.netns ?? ''
      const route = (via: string) => execFileSync('ip', ['netns', 'exec', n1, 'ip', 'route', 'replace', '10.244.102.64/26', 'via', via, 'dev', 'vxlan.calico', 'onlink'], {stdio: ['ignore', 'ignore', 'pipe']})
      route('10.244.102.70')
      try {
        const snapshot = await captureLab(lab.name, lab.root)
        const [real] = await probeAll(lab.plan, [{source: 'web-1-1', destination: 'web-2-2', timeoutMs: 500}])
        const t = traceIn(snapshot, ['web-1-1', 'web-2-2'])
        const report = runDoctor(snapshot, CHECKS)
        expect([real?.outcome, t.result.verdict, t.result.reason?.code, report.findings.map((f) => [f.check, f.node, f.evidence.map((e) => e.text)])]).toEqual([
          'timeout',
          'dropped',
          'route-nexthop-wrong',
          [['route-nexthop-wrong', 'node-1', ['10.244.102.64/26 via 10.244.102.70 dev vxlan.calico onlink', 'projectcalico.org/IPv4VXLANTunnelAddr: 10.244.102.64', 'host:node-2 (spec.cidr 10.244.102.64/26)']]],
        ])
      } finally {
        route('10.244.102.64')
      }
      const [again] = await probeAll(lab.plan, [{source: 'web-1-1', destination: 'web-2-2'}])
      expect(again?.outcome).toBe('delivered')
    }, 120_000)

    it('bridge faults are refused on calico-vxlan with their reason', async () => {
      const {name, root, env} = lab
      const refused = await knet(['lab', 'break', 'bridge-down', '--name', name], {env})
      expect([refused.status, refused.stderr]).toEqual([2, `knet: bridge-down does not apply to a calico-vxlan lab: no pod bridge: each pod has its own routed cali* veth (see veth-detached, which downs one)\n`])
      expect((await knet(['lab', 'down', '--name', name], {env})).status).toBe(0)
      await assertNothingLeft(name, root, lab.linksBefore)
    }, 120_000)
  },
})
