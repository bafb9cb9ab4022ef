/**
 * doctor's default view: one row per fault (the same check and message on several nodes or
 * subjects is one row naming them), the first line saying what to fix first, evidence as the
 * proving line with a short source.
 */
import {fileURLToPath} from 'node:url'
import {describe, expect, test} from 'vitest'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {renderDoctorSummary} from '../../../src/lib/render/doctor-summary.js'
import {summaryLine} from '../../../src/lib/render/doctor-table.js'
import {shortSource} from '../../../src/lib/render/evidence-source.js'
import {groupFindings} from '../../../src/lib/render/finding-groups.js'
import {wrapWords} from '../../../src/lib/render/text.js'
import type {Finding} from '../../../src/lib/report/finding.js'
import type {DoctorReport} from '../../../src/lib/report/report.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import {SMALL_CHECKS, SMALL_REPORT} from './report-fixture.js'

const STALE = fileURLToPath(new URL('fixtures/svc-stale-nat.json.gz', import.meta.url))
const EXAMPLE = fileURLToPath(new URL('../../../examples/lab-incident.json.gz', import.meta.url))

/** The view without its last line (the count line, which names how many checks the catalogue has). */
function body(report: DoctorReport, width: number): string[] {
  const lines = renderDoctorSummary(report, {width, color: false, checks: CHECKS}).split('\n')
  expect(lines.at(-1)).toBe(summaryLine(report))
  return lines.slice(0, -1)
}

describe('doctor default view', () => {
  test('the stale-nat fault on a 3-node lab: six findings, one row naming the three nodes', async () => {
    const report = runDoctor(await readSnapshot(STALE), CHECKS)
    expect(report.findings.map((f) => `${f.check} ${f.subject.name} ${f.node}`)).toHaveLength(6)
    expect(body(report, 80)).toEqual([
      '1 fault (6 errors). Fix first: nat-stale-endpoint — services default/web,',
      'default/web-np on node-1, node-2, node-3',
      '  → restart kube-proxy on the node (it rewrites all rules on start) and check',
      '    its logs for sync errors or a lost API watch',
      '',
      'ERROR (1 fault, 6 findings)',
      '  nat-stale-endpoint · services default/web, default/web-np · on node-1, node-2,',
      '      node-3',
      '    default/web:http (tcp) DNATs to 10.244.2.3:8080, which is not a ready',
      '    endpoint',
      '    └ node-1, node-2, node-3 iptables nat: -A KUBE-SEP-VQGOCFX4X6FWJPNR -p tcp',
      '      -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination',
      '      10.244.2.3:8080',
      '    └ api EndpointSlice default/web: ready: 10.244.1.2:8080, 10.244.1.3:8080,',
      '      10.244.2.2:8080, 10.244.3.2:8080, 10.244.3.3:8080',
      '',
    ])
  })

  test('the bundled incident: three faults, node faults first, the first line names the one to fix first', async () => {
    const report = runDoctor(await readSnapshot(EXAMPLE), CHECKS)
    const lines = body(report, 120)
    expect(lines[0]).toBe('3 faults (8 errors). Fix first: route-missing — node node-1')
    expect(lines.filter((l) => /^ {2}\S/.test(l) && !l.startsWith('  →'))).toEqual([
      '  route-missing · node node-1',
      '  bridge-nf-call-off · node node-2',
      '  nat-stale-endpoint · services default/web, default/web-np · on node-1, node-2, node-3',
    ])
    expect(lines).toContain('    └ node-1 ip route: default via 10.100.0.1 dev eth0')
    expect(lines).toContain('    └ node-2 sysctl: /proc/sys/net/bridge/bridge-nf-call-iptables:0')
    // Never the gathering command's argv.
    expect(lines.join('\n')).not.toMatch(/grep -H|iptables-save|ip -j/)
  })

  test('a small report: exact, at 80 columns; long tokens are never broken', () => {
    const text = renderDoctorSummary(SMALL_REPORT, {width: 80, color: false, checks: SMALL_CHECKS})
    expect(text).toBe(
      [
        '3 faults (1 error, 1 warning, 1 info). Fix first: route-nexthop-wrong — node',
        'node-1',
        '  → replace the stale route (ip route replace CIDR via NODE_IP) or FDB entry,',
        '    and restart the CNI agent so it reconciles; a node replaced under the same',
        '    name with a new IP is the usual cause',
        '',
        'ERROR (1 fault)',
        '  route-nexthop-wrong · node node-1',
        "    VXLAN traffic for node-3's pod CIDR 10.244.3.0/24 is sent to VTEP",
        "    10.100.0.9, which is no node's address",
        '    └ node-1 bridge fdb: 0a:00:00:00:03:00 dev flannel.1 dst 10.100.0.9 self',
        '      permanent',
        '',
        'WARN (1 fault)',
        '  service-selector-matches-nothing · service default/web',
        '    selector app=wbe matches none of the 2 pods in namespace default',
        '    └ api Service default/web spec.selector: app=wbe',
        '',
        'INFO (1 fault)',
        '  netpol-isolates · networkpolicy default/default-deny',
        '    default-deny ingress for 2 pod(s) in default: web-1, web-2',
        '    └ api NetworkPolicy default/default-deny spec.ingress: []',
        '',
        'SKIPPED (1)',
        '  conntrack-stale: skipped: conntrack unavailable on node-1 (conntrack: command',
        '    not found)',
        '',
        'COLLECTION ERRORS (1)',
        '  node-2 iptables-save: iptables-save: permission denied',
        '',
        '1 error, 1 warning, 1 info, 1 skipped (4 checks on 2 nodes); 1 collection error',
      ].join('\n'),
    )
    expect(renderDoctorSummary({...SMALL_REPORT, findings: [], skipped: [], collectionErrors: []}, {width: 80, color: false})).toBe('No findings.\n\n0 errors, 0 warnings, 0 info, 0 skipped (4 checks on 2 nodes)')
    const ESC = '\u001B['
    expect(renderDoctorSummary(SMALL_REPORT, {width: 80, color: true})).toContain(`${ESC}31m${ESC}1mERROR (1 fault)`)
  })
})

describe('grouping findings', () => {
  const stale = (svc: string, node: string, target = '10.244.2.3:8080'): Finding => ({
    check: 'nat-stale-endpoint',
    severity: 'error',
    subject: {kind: 'service', namespace: 'default', name: svc},
    node,
    message: `default/${svc}:http (tcp) DNATs to ${target}, which is not a ready endpoint`,
    evidence: [{source: `${node}: iptables-save`, text: `-A KUBE-SEP-${svc.toUpperCase()} -p tcp -j DNAT --to-destination ${target}`}],
  })

  test('the same message apart from its own subject and node is one group; another target is another', () => {
    const groups = groupFindings([stale('web', 'node-1'), stale('web', 'node-2'), stale('web-np', 'node-1'), stale('web', 'node-10'), stale('api', 'node-1', '10.244.9.9:80')])
    expect(groups.map((g) => [g.subjects.map((s) => s.name), g.nodes, g.findings.length])).toEqual([
      [['web', 'web-np'], ['node-1', 'node-2', 'node-10'], 4],
      [['api'], ['node-1'], 1],
    ])
  })

  test('node faults come before Service faults of the same severity; catalogue order breaks ties', () => {
    const node = (check: string): Finding => ({check, severity: 'error', subject: {kind: 'node', name: 'node-1'}, node: 'node-1', message: 'm', evidence: [{source: 'node-1: x', text: 't'}]})
    const order = ['route-missing', 'nat-stale-endpoint', 'bridge-nf-call-off']
    expect(groupFindings([node('bridge-nf-call-off'), stale('web', 'node-1'), node('route-missing')], order).map((g) => g.check)).toEqual(['route-missing', 'bridge-nf-call-off', 'nat-stale-endpoint'])
  })
})

describe('short evidence sources', () => {
  test('the command becomes what it read; iptables names its table', () => {
    const cases: [string, string, string][] = [
      ['node-2: grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables', '/proc/sys/net/ipv4/ip_forward:0', 'node-2 sysctl'],
      ['node-1: iptables-save', '-A KUBE-SEP-X -p tcp -j DNAT --to-destination 10.244.2.3:8080', 'node-1 iptables nat'],
      ['node-1: iptables-save', 'nat line 94: -A KUBE-SVC-X -j KUBE-SEP-Y', 'node-1 iptables nat'],
      ['node-1: iptables-save', ':FORWARD DROP [0:0]', 'node-1 iptables filter'],
      ['node-1: iptables-save', 'no -A KUBE-SERVICES rule with comment "x" in *nat', 'node-1 iptables nat'],
      ['node-1: iptables-legacy-save', '-A FORWARD -i cni0 -j ACCEPT', 'node-1 iptables-legacy filter'],
      ['api: EndpointSlices of Service default/web', 'ready: 10.244.1.2:8080', 'api EndpointSlice default/web'],
      ['api: Service default/web spec.selector', 'app=wbe', 'api Service default/web spec.selector'],
      ['Pod default/web-1-1', 'status.podIP: 10.244.1.2', 'api Pod default/web-1-1'],
      ['node-1: ip -j rule show / node-1: ip -j route show table all', '32766: from all lookup main: default via 10.100.0.1', 'node-1 ip route'],
      ['node-1: ip -j -d link show', '3: cbr0: <UP>', 'node-1 ip link'],
      ['node-1: bridge -j fdb show', 'aa dev veth1 master cbr0', 'node-1 bridge fdb'],
      ['node-1: conntrack -L', 'udp 17 …', 'node-1 conntrack'],
      ['node-1: grep -r -H --include=rp_filter . /proc/sys/net/ipv4/conf', '/proc/sys/net/ipv4/conf/all/rp_filter:1', 'node-1 sysctl'],
      ['node-1: routes4', 'default via 10.100.0.1', 'node-1 ip route'],
    ]
    for (const [source, text, short] of cases) expect(shortSource({source, text})).toBe(short)
  })

  test('wrapping keeps every word whole, however long', () => {
    expect(wrapWords('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc'])
    expect(wrapWords('x KUBE-SEP-VQGOCFX4X6FWJPNR y', 8, '> ', '  ')).toEqual(['> x', '  KUBE-SEP-VQGOCFX4X6FWJPNR', '  y'])
    expect(wrapWords('  3 ok   cbr0', 40)).toEqual(['  3 ok   cbr0'])
  })
})
