/**
 * Issue 6: every lab fault is reported by exactly the check it emulates, naming the right node (or
 * object) and quoting the evidence line, and nothing else turns red; a snapshot of the broken lab
 * replays to the same report; heal returns the lab to no findings. All 14 faults on a host-gw lab;
 * on a VXLAN lab the ones whose evidence differs there (the flannel.1 route, the VTEP's FDB and
 * neighbour entries, MTU after encapsulation, the bridge overlap). Runs in-process (break, gather,
 * doctor) to keep the suite short; for one fault `knet doctor --snapshot` replays the file too.
 */
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {CHECKS} from '../../src/lib/checks/registry.js'
import {runDoctor} from '../../src/lib/checks/context.js'
import {resolveAnalysisSnapshot} from '../../src/lib/gather/analysis-source.js'
import {breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import {planLab, type Topology} from '../../src/lib/lab/plan.js'
import {renderDoctorJson} from '../../src/lib/render/doctor-json.js'
import type {DoctorReport} from '../../src/lib/report/report.js'
import {writeSnapshot} from '../../src/lib/snapshot/write.js'
import {knet} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {LAB_TOOLS, tempLabRoot} from '../lib/lab/lab-harness.js'

/** A fault (or a direct change), the findings as "severity check node-or-subject", and evidence lines the first finding must quote. */
interface Case {
  fault: string
  findings: string[]
  evidence: (string | RegExp)[]
}

const HOST_GW: Case[] = [
  {fault: 'missing-route', findings: ['error route-missing node-1'], evidence: ['default via 10.100.0.1 dev eth0']},
  {fault: 'stale-route', findings: ['error route-nexthop-wrong node-1'], evidence: ['10.244.2.0/24 via 10.100.0.202 dev eth0']},
  {
    fault: 'docker0-overlap',
    findings: ['error cidr-overlap node-1'],
    evidence: ['docker0 inet 172.17.0.1/16', '172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1', 'cbr0 inet 172.17.2.1/24'],
  },
  {
    fault: 'cidr-overlap',
    findings: ['error cidr-overlap node-1'],
    evidence: ['cbr0 inet 10.244.2.1/24', '10.244.2.0/24 dev cbr0 proto kernel scope link src 10.244.2.1', '10.244.2.0/24'],
  },
  {
    fault: 'stale-nat',
    findings: ['error nat-stale-endpoint node-1', 'error nat-stale-endpoint node-1', 'error nat-stale-endpoint node-2', 'error nat-stale-endpoint node-2'],
    evidence: [/^-A KUBE-SEP-\w+ -p tcp -m comment --comment "default\/web(-np)?:http" -m tcp -j DNAT --to-destination 10\.244\.2\.3:8080$/],
  },
  {fault: 'missing-nat', findings: ['error nat-missing-service node-1'], evidence: ['no -A KUBE-SERVICES rule with comment "default/web:http cluster IP" in *nat']},
  {fault: 'ip-forward-off', findings: ['error ip-forward-off node-1'], evidence: ['/proc/sys/net/ipv4/ip_forward:0']},
  {fault: 'forward-drop', findings: ['error forward-policy-drop node-1'], evidence: [':FORWARD DROP [0:0]']},
  {fault: 'bridge-nf-off', findings: ['error bridge-nf-call-off node-1'], evidence: ['/proc/sys/net/bridge/bridge-nf-call-iptables:0']},
  {fault: 'veth-detached', findings: ['error veth-detached node-2'], evidence: [/^\d+: veth2@if2 veth mtu 1500 state UP link-netnsid \d+ <BROADCAST,MULTICAST,UP,LOWER_UP>$/]},
  {fault: 'bridge-down', findings: ['error bridge-down node-1'], evidence: ['3: cbr0 bridge mtu 1500 state DOWN <BROADCAST,MULTICAST>']},
  {
    fault: 'mtu-mismatch',
    findings: ['error mtu-mismatch node-1'],
    evidence: ['3: cbr0 bridge mtu 1500 state UP <BROADCAST,MULTICAST,UP,LOWER_UP>', /^2: eth0@if\d+ veth mtu 1400 state UP /],
  },
  {fault: 'netpol-deny', findings: ['info netpol-isolates networkpolicy/default/deny-ingress-web-2-2'], evidence: ['knet.dev/quarantine=true']},
  {fault: 'stale-conntrack', findings: ['error conntrack-stale node-1'], evidence: [/^udp 17 \d+ src=10\.244\.1\.3 dst=10\.96\.0\.53 sport=40053 dport=53 src=10\.244\.\d+\.\d+ .*\(line \d+\)$/]},
]

/** Direct changes in node-1's namespace for the VXLAN-only evidence (flannel removing a peer's entries). */
const plan = planLab({name: 'dfv', nodes: 2, podsPerNode: 2, topology: 'vxlan'})
const n1 = plan.nodes[0]
const fdb = n1?.fdb.find((f) => f.toNode === 'node-2')
const neigh = n1?.neighbours.find((n) => n.toNode === 'node-2')
const DIRECT: Record<string, {break: string[][]; heal: string[][]}> = {
  'no FDB entry for node-2': {
    break: [['bridge', '-n', n1?.netns ?? '', 'fdb', 'del', fdb?.mac ?? '', 'dev', fdb?.dev ?? '', 'dst', fdb?.dst ?? '']],
    heal: [['bridge', '-n', n1?.netns ?? '', 'fdb', 'append', fdb?.mac ?? '', 'dev', fdb?.dev ?? '', 'dst', fdb?.dst ?? '']],
  },
  'no neighbour entry for node-2': {
    break: [['ip', '-n', n1?.netns ?? '', 'neigh', 'del', neigh?.ip ?? '', 'dev', neigh?.dev ?? '']],
    heal: [['ip', '-n', n1?.netns ?? '', 'neigh', 'replace', neigh?.ip ?? '', 'lladdr', neigh?.mac ?? '', 'dev', neigh?.dev ?? '', 'nud', 'permanent']],
  },
}

const VXLAN: Case[] = [
  {fault: 'missing-route', findings: ['error route-missing node-1'], evidence: ['default via 10.100.0.1 dev eth0']},
  {fault: 'no FDB entry for node-2', findings: ['error route-missing node-1'], evidence: ['10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink', /^10\.244\.2\.0 dev flannel\.1 lladdr [0-9a-f:]+ PERMANENT$/]},
  {fault: 'no neighbour entry for node-2', findings: ['error route-missing node-1'], evidence: ['10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink']},
  {fault: 'stale-route', findings: ['error route-nexthop-wrong node-1'], evidence: [/^[0-9a-f:]+ dev flannel\.1 dst 10\.100\.0\.202 self permanent$/]},
  {
    fault: 'cidr-overlap',
    findings: ['error cidr-overlap node-1'],
    evidence: ['cbr0 inet 10.244.2.1/24', '10.244.2.0/24 dev cbr0 proto kernel scope link src 10.244.2.1', '10.244.2.0/24'],
  },
  {
    fault: 'mtu-mismatch',
    findings: ['error mtu-mismatch node-1'],
    evidence: ['4: flannel.1 vxlan mtu 1450 state UNKNOWN <BROADCAST,MULTICAST,UP,LOWER_UP>', /^2: eth0@if\d+ veth mtu 1400 state UP /],
  },
]

function keys(report: Pick<DoctorReport, 'findings'>): string[] {
  return report.findings.map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.namespace ? `${f.subject.namespace}/` : ''}${f.subject.name}`}`).sort()
}

function faultSuite(topology: Topology, name: string, cases: Case[], viaCli?: string): void {
  describeNetns(`each lab fault is reported by exactly its check, ${topology} [root]`, () => {
    let root = ''
    const env = (): NodeJS.ProcessEnv => ({KNET_LAB_DIR: root})
    const gather = () => resolveAnalysisSnapshot({lab: name, timeoutMs: 10_000, parallel: 4, knetVersion: 'test', command: 'test'})
    const doctor = async () => {
      const report = runDoctor(await gather(), CHECKS)
      expect(report.collectionErrors).toEqual([])
      return report
    }

    beforeAll(() => {
      root = tempLabRoot(name)
      process.env.KNET_LAB_DIR = root
      const up = knet(['lab', 'up', '--name', name, '--nodes', '2', '--pods-per-node', '2', '--topology', topology], {env: env()})
      if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`)
    })
    afterAll(() => {
      knet(['lab', 'down', '--name', name], {env: env()})
      rmSync(root, {recursive: true, force: true})
    })

    it('starts with no finding', async () => {
      expect(keys(await doctor())).toEqual([])
    })

    for (const c of cases) {
      it(`${c.fault} → ${c.findings.join(', ')}`, async () => {
        const direct = DIRECT[c.fault]
        if (direct) for (const argv of direct.break) execFileSync(argv[0] as string, argv.slice(1))
        else await breakFault(name, c.fault, {root})
        try {
          const snapshot = await gather()
          const live = runDoctor(snapshot, CHECKS)
          expect(live.collectionErrors).toEqual([])
          expect(keys(live)).toEqual(c.findings)
          const texts = live.findings[0]?.evidence.map((e) => e.text) ?? []
          for (const line of c.evidence) expect(texts, String(line)).toContainEqual(typeof line === 'string' ? line : expect.stringMatching(line))
          // The same results replay from a snapshot of the broken lab (written and read as files are).
          const file = join(root, `${c.fault.replaceAll(' ', '-')}.json.gz`)
          await writeSnapshot(snapshot, file)
          expect(runDoctor(await resolveAnalysisSnapshot({snapshot: file, timeoutMs: 10_000, parallel: 4, knetVersion: 'test', command: 'test'}), CHECKS)).toEqual(live)
          if (c.fault === viaCli) {
            // And through the command: `knet doctor --snapshot` on that file prints the live report.
            const replay = knet(['doctor', '--snapshot', file, '-o', 'json'], {env: env()})
            expect(replay.status).toBe(1)
            expect(JSON.parse(replay.stdout)).toEqual(JSON.parse(renderDoctorJson(live)))
          }
        } finally {
          if (direct) for (const argv of direct.heal) execFileSync(argv[0] as string, argv.slice(1))
          else await healFaults(name, c.fault, {root})
        }
        expect(keys(await doctor())).toEqual([])
      })
    }
  }, LAB_TOOLS)
}

faultSuite('host-gw', 'dfh', HOST_GW, 'cidr-overlap')
faultSuite('vxlan', plan.params.name, VXLAN)
