import {describe, expect, it} from 'vitest'
import {iptablesUnreadable} from '../../../src/lib/checks/iptables-unreadable.js'
import {runChecks} from '../../../src/lib/checks/context.js'
import {buildModel} from '../../../src/lib/model/model.js'
import {serviceNat} from '../../../src/lib/datapath/netfilter/service-nat.js'
import {parseIptablesSave} from '../../../src/lib/parse/iptables-save.js'
import {nodeEvidence, snapshotOf} from './fixtures.js'

/** What iptables 1.8.7 printed for rules kube-proxy wrote with a newer iptables (kubernetes#112477-style reports). */
const GARBLED = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-X - [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment "lab/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-X
-A KUBE-SVC-X -m comment --comment "lab/echo:http -> 10.244.2.11:8080" -m statistic [unsupported revision] -j KUBE-SEP-A
-A KUBE-SVC-X -m comment --comment "lab/echo:http -> 10.244.2.12:8080" -j KUBE-SEP-B
-A KUBE-SEP-A -p tcp -m comment --comment "lab/echo:http" -m tcp -j DNAT --to-destination  --random --to-destination 0.0.0.0:0
-A KUBE-SEP-B -p tcp -m comment --comment "lab/echo:http" -m tcp -j DNAT --to-destination 10.244.2.12:8080
COMMIT
`

describe('iptables-unreadable', () => {
  it('a garbled DNAT is never read as a DNAT to 0.0.0.0: the rule is kept, unreadable, and a trace through it is unknown naming the line', () => {
    const {value, problems} = parseIptablesSave(GARBLED)
    expect(problems.map((p) => p.line)).toEqual([11, 13])
    const sep = value.tables[0]?.chainIndex.get('KUBE-SEP-A')?.rules[0]
    expect([sep?.target, sep?.unreadable]).toEqual([null, expect.stringMatching(/garbled DNAT target: --to-destination given 2 times/)])
    const r = serviceNat(value, {family: 4, src: '10.244.1.5', dst: '10.96.0.50', protocol: 'tcp', dport: 80, inIface: 'cni0', mark: 0, ctstate: 'NEW'}, {localAddresses: new Set()})
    expect(r.dnat.some((d) => d.ip === '0.0.0.0')).toBe(false)
    expect(r.outcomes.map((o) => o.verdict)).toEqual(['UNKNOWN'])
    expect(r.uncertain[0]).toMatch(/^nat line 11 cannot be read \(unexpected word "\[unsupported"\): -A KUBE-SVC-X /)
  })

  it('doctor says userspace and kernel disagree, quoting the lines', () => {
    const model = buildModel(snapshotOf({nodes: [nodeEvidence('node-1', {'iptables-save': GARBLED})]}))
    const report = runChecks(model, [iptablesUnreadable])
    expect(report.findings.map((f) => [f.node, f.message])).toEqual([
      ['node-1', "iptables-save on node-1 prints 2 rule(s) it cannot decode: the iptables binary and the kernel's rules disagree, a newer iptables wrote them; read them with iptables-save from kube-proxy's (or the CNI's) image"],
    ])
    expect(report.findings[0]?.evidence.map((e) => e.text)).toEqual([
      expect.stringMatching(/^line 11: -A KUBE-SVC-X .*\[unsupported revision\]/),
      expect.stringMatching(/^line 13: -A KUBE-SEP-A .*--to-destination {2}--random --to-destination 0\.0\.0\.0:0 \(-j DNAT: garbled DNAT target/),
    ])
  })

  it("names the node's iptables version, the backend holding the rules and the matching binary in kube-proxy's pod", () => {
    const snapshot = snapshotOf({
      nodes: [nodeEvidence('node-1', {'iptables-save': GARBLED, 'iptables-version': 'iptables v1.8.7 (nf_tables)\n'})],
      cluster: {pods: [{namespace: 'kube-system', name: 'kube-proxy-x7k2p', node: 'node-1', ip: '10.100.0.2', labels: {'k8s-app': 'kube-proxy'}, hostNetwork: true}]},
    })
    const report = runChecks(buildModel(snapshot), [iptablesUnreadable])
    expect(report.findings.map((f) => f.message)).toEqual([
      "iptables-save on node-1 prints 2 rule(s) it cannot decode: the iptables binary and the kernel's rules disagree (the node's iptables is v1.8.7, nf_tables), a newer iptables wrote them; the rules are in the nf_tables backend; read them with kubectl -n kube-system exec kube-proxy-x7k2p -- iptables-nft-save",
    ])
    expect(report.findings[0]?.evidence.at(-1)).toEqual({source: 'node-1: iptables --version', text: 'iptables v1.8.7 (nf_tables)'})
  })

  it('garbled rules in the legacy backend name iptables-legacy-save', () => {
    const model = buildModel(snapshotOf({nodes: [nodeEvidence('node-1', {'iptables-save': '', 'iptables-legacy-save': GARBLED, 'iptables-version': 'iptables v1.8.9 (nf_tables)\n'})]}))
    const report = runChecks(model, [iptablesUnreadable])
    expect(report.findings.map((f) => f.message)).toEqual([
      "iptables-legacy-save on node-1 prints 2 rule(s) it cannot decode: the iptables binary and the kernel's rules disagree, a newer iptables wrote them; the rules are in the legacy backend; read them with iptables-legacy-save from kube-proxy's (or the CNI's) image",
    ])
  })
})
