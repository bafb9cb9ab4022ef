/**
 * doctor in both families on real kernel state (root: network namespaces, see
 * test/lib/trace/dual-stack-netns.ts): a healthy dual-stack pair of nodes has no finding; IPv6
 * forwarding off, an ip6tables FORWARD DROP, a lost IPv6 pod route and a node without the
 * Service's ip6tables rules are each found, tagged family 6, naming IPv6 ranges only.
 */
import {afterAll, beforeAll, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {toDoctorJson} from '../../../src/lib/report/report.js'
import type {Finding} from '../../../src/lib/report/finding.js'
import {describeNetns} from '../../helpers/netns.js'
import {buildDualStackLab, natRules, V4, V6, type DualStackLab} from '../trace/dual-stack-netns.js'

const brief = (f: Finding) => [f.check, f.node, f.family ?? 4, f.message]

describeNetns('doctor: IPv6 and dual-stack on real namespaces', () => {
  let lab: DualStackLab
  const doctor = async () => runDoctor(await lab.snapshot(), CHECKS).findings.filter((f) => f.check !== 'kube-proxy-mode')

  beforeAll(() => {
    lab = buildDualStackLab('v6d')
  })
  afterAll(() => lab?.destroy())

  it('healthy: nothing to report in either family', async () => {
    expect((await doctor()).map(brief)).toEqual([])
  })

  it('IPv6 forwarding off and an ip6tables FORWARD DROP on node-1: two IPv6 findings, IPv4 judged healthy', async () => {
    lab.node[0].run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=0'])
    lab.node[0].run(['ip6tables', '-P', 'FORWARD', 'DROP'])
    try {
      const findings = await doctor()
      expect(findings.map(brief)).toEqual([
        ['forward-policy-drop', 'node-1', 6, 'ip6tables filter FORWARD policy is DROP and no rule reachable from FORWARD accepts IPv6 pod traffic (fd00:10:244:1::/64)'],
        ['ip-forward-off', 'node-1', 6, `net.ipv6.conf.all.forwarding is 0: the node routes no IPv6 packet, so IPv6 traffic of its pods' IPv6 addresses (${V6.pod1}) does not leave or reach the node (IPv4 is unaffected)`],
      ])
      expect(findings.map((f) => f.evidence[0])).toEqual([
        {source: 'node-1: ip6tables-save', text: ':FORWARD DROP [0:0]'},
        {source: 'node-1: grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables', text: '/proc/sys/net/ipv6/conf/all/forwarding:0'},
      ])
      // The JSON keeps its schema, with the family where it matters.
      const json = toDoctorJson({findings, skipped: [], collectionErrors: [], checks: 1, nodes: 2})
      expect(json.findings.map((f) => (f as {family?: number}).family)).toEqual([6, 6])
    } finally {
      lab.node[0].run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1'])
      lab.node[0].run(['ip6tables', '-P', 'FORWARD', 'ACCEPT'])
    }
  })

  it("a lost IPv6 route to node-2's IPv6 pod range and node-2 without the Service's ip6tables rules (its IPv4 rules intact)", async () => {
    lab.node[0].run(['ip', '-6', 'route', 'del', 'fd00:10:244:2::/64'])
    lab.node[1].run(['ip6tables', '-t', 'nat', '-F'])
    lab.node[1].run(['ip6tables', '-t', 'nat', '-X'])
    try {
      const findings = await doctor()
      expect(findings.map((f) => [f.check, f.node, f.family ?? 4])).toEqual([
        ['nat-missing-service', 'node-2', 6],
        ['route-missing', 'node-1', 6],
      ])
      expect(findings[0]?.message).toBe(`default/web:http (tcp) has 1 ready IPv6 endpoint(s) but no kube-proxy ip6tables rules on node-2 (its IPv4 family has them): IPv6 clients of [${V6.svc}]:80 get nowhere`)
      expect(findings[0]?.evidence.map((e) => e.text)).toEqual([`[${V6.pod2}]:8080 ready`, `no -A KUBE-SERVICES rule with comment "default/web:http cluster IP" in *nat (for ${V6.svc})`])
      expect(findings[1]?.message).toBe("no usable route to node-2's pod CIDR fd00:10:244:2::/64 (no-route)")
    } finally {
      lab.node[0].run(['ip', '-6', 'route', 'add', 'fd00:10:244:2::/64', 'via', V6.node2])
      lab.node[1].run(['ip6tables-restore'], natRules(V6.svc, V6.pod2, 128, 6))
    }
  })

  it('a stale IPv6 DNAT (an endpoint no longer ready) is nat-stale-endpoint for IPv6, the IPv4 family untouched', async () => {
    lab.node[0].run(['ip6tables-restore'], natRules(V6.svc, 'fd00:10:244:2::99', 128, 6))
    try {
      const findings = await doctor()
      expect(findings.map(brief)).toEqual([
        ['nat-missing-service', 'node-1', 6, `default/web:http (tcp): 1 ready IPv6 endpoint(s) absent from node-1's ip6tables rules: ${V6.pod2}`],
        ['nat-stale-endpoint', 'node-1', 6, 'default/web:http (tcp) DNATs to [fd00:10:244:2::99]:8080, which is not a ready endpoint'],
      ])
      expect(findings[1]?.evidence[1]?.text).toBe(`ready: ${V4.pod2}:8080, [${V6.pod2}]:8080`)
    } finally {
      lab.node[0].run(['ip6tables-restore'], natRules(V6.svc, V6.pod2, 128, 6))
    }
  })
}, ['ping', 'iptables-restore', 'ip6tables-restore', 'ip6tables'])
