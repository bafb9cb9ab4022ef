/**
 * Shared by test/commands/lab-faults-*.test.ts: one lab per topology (2 nodes × 2 pods) for
 * everything that needs a lab in a known state, so each fault is broken once:
 *  - healthy: the baseline is delivered; doctor finds nothing (in-process and through the CLI) and
 *    a snapshot of the lab replays to the same report; every kind of pair traces to what real
 *    packets observe;
 *  - changes made directly in the namespaces (direct-faults.ts): trace gives their code, doctor
 *    reports the VXLAN ones, `knet doctor` reports ip_forward off;
 *  - every `knet lab break` fault (fault-cases.ts): break; capture the lab once, then probe; the
 *    exact probe lines (`knet lab probe`), trace's verdict and reason code against the probe (issue
 *    5), doctor's findings and evidence (issue 6) and their replay from the written snapshot, all
 *    from that one capture; heal; healthy again.
 * Then the topology's own tests (`more`), the last of which may take the lab down. Root only.
 */
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {resolveAnalysisSnapshot} from '../../../src/lib/gather/analysis-source.js'
import {breakFault, healFaults, type HealOutcome} from '../../../src/lib/lab/faults/run.js'
import {planLab, type Topology} from '../../../src/lib/lab/plan.js'
import {type ProbeRequest} from '../../../src/lib/lab/probe.js'
import {renderDoctorJson} from '../../../src/lib/render/doctor-json.js'
import type {DoctorReport} from '../../../src/lib/report/report.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {writeSnapshot} from '../../../src/lib/snapshot/write.js'
import {compareWithProbe} from '../../../src/lib/trace/probe.js'
import {knetAsync as knet} from '../../helpers/cli.js'
import {describeLabFaults} from '../../helpers/netns.js'
import {uniqueLabName} from '../../helpers/unique.js'
import {captureLab, traceIn} from '../trace/trace-lab-helpers.js'
import {directFaults} from './direct-faults.js'
import {FAULT_CODES, labFaultCases, observedIn, verdictFor, type LabHandle, type Row} from './fault-cases.js'
import {BASELINE, probeLine} from './faults-harness.js'
import {LAB_TOOLS, labNamespaces, rootLinks, tempLabRoot, probeAll} from './lab-harness.js'

export interface SuiteLab extends LabHandle {
  env: NodeJS.ProcessEnv
  /** The root namespace's links before the lab came up (for assertNothingLeft). */
  linksBefore: Set<string>
}

export interface LabFaultsSuiteOptions {
  topology: Topology
  /** The lab's name before uniqueLabName makes it this test process's own. */
  tag: string
  /** The fault whose broken snapshot is also replayed through `knet doctor --snapshot`. */
  doctorViaCli?: string
  /** The topology's own tests, registered after the shared ones (the last may take the lab down). */
  more?: (lab: SuiteLab) => void
}

interface DoctorJson {
  summary: {error: number; warn: number; info: number; skipped: number}
  findings: {check: string; severity: string; node?: string; evidence: {source: string; text: string}[]}[]
  skipped: {check: string; reason: string}[]
  collectionErrors: unknown[]
}

/**
 * The checks a healthy lab of each topology skips, and why each skip is right: Calico assigns pod
 * addresses from its own IPAM blocks, so the nodes' spec.podCIDRs say nothing about them.
 */
const HEALTHY_SKIPS: Partial<Record<Topology, string[]>> = {
  'calico-vxlan': ['pod-ip-outside-node-cidr'],
  // The AWS VPC CNI's pods are VPC addresses: no spec.podCIDRs, and no node routes another's pods.
  'aws-vpc': ['pod-ip-outside-node-cidr', 'route-missing', 'route-nexthop-wrong'],
}

/** Findings as "severity check node-or-subject", sorted. */
function keys(report: Pick<DoctorReport, 'findings'>): string[] {
  return report.findings.map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.namespace ? `${f.subject.namespace}/` : ''}${f.subject.name}`}`).sort()
}

function evidenceMatchers(lines: (string | RegExp)[]): unknown {
  return expect.arrayContaining(lines.map((l) => (typeof l === 'string' ? l : expect.stringMatching(l))))
}

/** "ARGS: probe OUTCOME, trace VERDICT[ CODE], agree|DISAGREE" for every row that names a trace. */
function traceRows(snapshot: Snapshot, rows: Row[], observed: Awaited<ReturnType<typeof probeAll>>): string[] {
  return rows.flatMap((row, i) => {
    if (!row.trace) return []
    const t = traceIn(snapshot, row.trace).result
    const o = observed[i]
    const agrees = o ? compareWithProbe(t, o).agrees : null
    return [`${row.trace.join(' ')}: probe ${o?.outcome ?? '?'}, trace ${t.verdict}${t.reason ? ` ${t.reason.code}` : ''}, ${agrees ? 'agree' : 'DISAGREE'}`]
  })
}

/** Each probe without its options: the plain traffic a busy node sees between those pods. */
function plain(requests: ProbeRequest[]): ProbeRequest[] {
  return requests.map((p) => ({source: p.source, destination: p.destination, ...(p.protocol ? {protocol: p.protocol} : {})}))
}

export function labFaultsSuite({topology, tag, doctorViaCli, more}: LabFaultsSuiteOptions): void {
  const name = uniqueLabName(tag)
  const plan = planLab({name, nodes: 2, podsPerNode: 2, topology})
  const lab: SuiteLab = {name, root: '', plan, env: {}, linksBefore: new Set()}
  const run = (argv: string[]) => execFileSync(argv[0] as string, argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe']})
  const capture = () => captureLab(name, lab.root)
  const doctorCli = async (args: string[]) => {
    const r = await knet(['doctor', ...args, '-o', 'json'], {env: lab.env})
    return {status: r.status, report: JSON.parse(r.stdout) as DoctorJson}
  }
  /** The baseline is delivered and doctor finds nothing (the baseline's own flows are no finding: their pods are all there). */
  const healthy = async () => {
    const [results, snapshot] = await Promise.all([probeAll(plan, BASELINE.map(([req]) => req)), capture()])
    const probes = results.map(probeLine)
    const report = runDoctor(snapshot, CHECKS)
    expect({probes, findings: keys(report), collectionErrors: report.collectionErrors}).toEqual({probes: BASELINE.map(([, l]) => l), findings: [], collectionErrors: []})
  }

  describeLabFaults(`knet lab, trace and doctor over one ${topology} lab (2 nodes × 2 pods), every fault broken once [root]`, () => {
    beforeAll(async () => {
      lab.root = tempLabRoot(name)
      lab.env = {KNET_LAB_DIR: lab.root}
      process.env.KNET_LAB_DIR = lab.root
      lab.linksBefore = rootLinks()
      await knet(['lab', 'down', '--name', name], {env: lab.env})
      const up = await knet(['lab', 'up', '--name', name, '--topology', topology], {env: lab.env})
      expect([up.status, up.stderr]).toEqual([0, expect.stringContaining(`lab ${name} is up`)])
    })

    afterAll(async () => {
      if (!lab.root) return
      await knet(['lab', 'down', '--name', name], {env: lab.env})
      rmSync(lab.root, {recursive: true, force: true})
      expect(labNamespaces(name)).toEqual([])
    })

    it('a healthy lab: the baseline is delivered; doctor finds nothing (exit 0), and a snapshot of the lab replays to the same report', async () => {
      const file = join(lab.root, 'lab.json.gz')
      const [live, snapshot] = await Promise.all([doctorCli(['--lab', name]), knet(['snapshot', '--lab', name, '-o', file], {env: lab.env})])
      const skips = HEALTHY_SKIPS[topology] ?? []
      expect([live.status, live.report.findings, live.report.summary, live.report.skipped.map((x) => x.check).sort(), live.report.collectionErrors]).toEqual([0, [], {error: 0, warn: 0, info: 0, skipped: skips.length}, skips, []])
      expect(snapshot.status).toBe(0)
      expect((await doctorCli(['--snapshot', file])).report).toEqual(live.report)
      await healthy()
    })

    it('trace, every kind of pair: the verdict equals what real packets observe, and the healthy lab is delivered', async () => {
      const pairs: {trace: string[]; probe: ProbeRequest}[] = [
        {trace: ['web-1-1', 'web-1-2'], probe: {source: 'web-1-1', destination: 'web-1-2'}},
        {trace: ['pod/default/web-1-2', 'default/web-2-1'], probe: {source: 'web-1-2', destination: 'web-2-1'}},
        {trace: ['web-2-2', 'web-1-1', '--protocol', 'udp'], probe: {source: 'web-2-2', destination: 'web-1-1', protocol: 'udp'}},
        {trace: ['web-1-1', 'web-2-1', '--protocol', 'icmp'], probe: {source: 'web-1-1', destination: 'web-2-1', protocol: 'icmp'}},
        {trace: ['web-1-1', 'svc/default/web:80'], probe: {source: 'web-1-1', destination: 'svc/default/web', attempts: 80}},
        {trace: ['web-2-1', '10.96.0.53:53'], probe: {source: 'web-2-1', destination: 'svc/default/dns', attempts: 40}},
        {trace: ['web-1-2', '10.100.0.3:30080'], probe: {source: 'web-1-2', destination: 'node/node-2:30080', attempts: 80}},
        {trace: ['web-2-2', 'node/node-2:30080'], probe: {source: 'web-2-2', destination: 'node/node-2:30080', attempts: 80}},
        {trace: ['node/node-1', 'web-2-2'], probe: {source: 'node/node-1', destination: 'web-2-2'}},
        {trace: ['node/node-2', 'web-2-1'], probe: {source: 'node/node-2', destination: 'web-2-1'}},
      ]
      const probes = await probeAll(plan, pairs.map((p) => p.probe))
      const snapshot = await capture()
      const rows = pairs.map((p, i) => {
        const t = traceIn(snapshot, p.trace)
        return `${p.trace.join(' ')}: trace ${t.result.verdict} (exit ${t.status}), probe ${probes[i]?.outcome ?? '?'}`
      })
      expect(rows).toEqual(pairs.map((p) => `${p.trace.join(' ')}: trace delivered (exit 0), probe delivered`))
      // A Service traces to one delivered branch per endpoint, with the DNAT chances.
      const {result} = traceIn(snapshot, ['web-1-1', 'svc/default/web'])
      expect(result.branches.map((b) => [b.endpoint, b.verdict])).toEqual(plan.pods.map((p) => [`pod/default/${p.name}`, 'delivered']))
      const chance = Math.round(10_000 / plan.pods.length) / 10_000
      expect(result.nat.dnat.map((d) => [d.ip, d.port, d.probability])).toEqual(plan.pods.map((p) => [p.ip, 8080, chance]))
      // ptp has no bridge: the node's stack meets the packet at the pod's routed veth, where DNAT splits it.
      expect(result.hops.map((h) => h.label)).toEqual(topology === 'ptp' || topology === 'calico-vxlan' || topology === 'aws-vpc' ? ['web-1-1 eth0'] : ['web-1-1 eth0', 'veth1'])
    })

    it('trace: the cross-node path line is in the seeds’ notation; --probe sends the real packet too, and it agrees', async () => {
      await probeAll(plan, [{source: 'web-1-1', destination: 'web-2-2'}])
      // Wide enough that no topology's path line wraps (Calico's veth names are 15 characters).
      const r = await knet(['trace', 'web-1-1', 'web-2-2', '--lab', name, '--probe'], {env: {...lab.env, COLUMNS: '200'}})
      expect([r.status, r.stderr]).toEqual([0, ''])
      const middle = topology === 'vxlan' ? 'node-1 flannel.1 → 10.100.0.3 → node-2 flannel.1' : topology === 'calico-vxlan' ? 'node-1 vxlan.calico → 10.100.0.3 → node-2 vxlan.calico' : 'node-1 eth0 → 10.100.0.3 → node-2 eth0'
      const veth = (pod: string) => plan.pods.find((p) => p.name === pod)?.hostVeth ?? '?'
      const path =
        topology === 'ptp' ? `web-1-1 eth0 → node-1 veth1 → ${middle} → veth2 → web-2-2 eth0`
        : topology === 'calico-vxlan' ? `web-1-1 eth0 → node-1 ${veth('web-1-1')} → ${middle} → ${veth('web-2-2')} → web-2-2 eth0`
        // aws-vpc: web-2-2 is a secondary address of node-2's eth1; the VPC delivers it there.
        : topology === 'aws-vpc' ? `web-1-1 eth0 → node-1 ${veth('web-1-1')} → node-1 eth0 → ${plan.pods.find((p) => p.name === 'web-2-2')?.ip ?? '?'} → node-2 eth1 → ${veth('web-2-2')} → web-2-2 eth0`
        : `web-1-1 eth0 → veth1 → cbr0 → ${middle} → cbr0 → veth2 → web-2-2 eth0`
      const ip = (pod: string) => plan.pods.find((p) => p.name === pod)?.ip ?? '?'
      // The answer first (the verdict), what was traced, the path; then prediction beside observation, and the -v hint.
      expect(r.stdout.split('\n')).toEqual([
        'verdict: DELIVERED',
        `pod/default/web-1-1 (${ip('web-1-1')}) → pod/default/web-2-2 (${ip('web-2-2')}:8080) tcp`,
        `path: ${path}`,
        '',
        'predicted:    DELIVERED',
        'real packet:  DELIVERED — 1 attempt: 1 delivered; answered by web-2-2',
        '              agrees',
        '',
        'every hop with all its evidence: -v',
        '',
      ])
    })

    it('doctor: ip_forward off on node-1 (changed directly) is exactly ip-forward-off, naming node-1 and the sysctl (exit 1)', async () => {
      const n1 = plan.nodes[0]?.netns ?? ''
      const sysctl = (value: string) => execFileSync('ip', ['netns', 'exec', n1, 'tee', '/proc/sys/net/ipv4/ip_forward'], {input: value, stdio: ['pipe', 'ignore', 'pipe']})
      sysctl('0')
      try {
        const {status, report} = await doctorCli(['--lab', name])
        expect(report.findings.map((f) => [f.check, f.node])).toEqual([['ip-forward-off', 'node-1']])
        expect(report.findings[0]?.evidence[0]?.text).toBe('/proc/sys/net/ipv4/ip_forward:0')
        expect(status).toBe(1)
      } finally {
        sysctl('1')
      }
    })

    for (const [i, f] of directFaults(plan).entries()) {
      const title = `${f.code} (${i}, changed directly): trace says so${f.realOutcomeVaries ? ` (the real packet's fate depends on the ${f.realOutcomeVaries})` : ' and real packets are not delivered'}${f.doctor ? `; doctor: ${f.doctor.title} → ${f.doctor.findings.join(', ')}` : ''}`
      it(title, async () => {
        const pair = {source: f.src, destination: f.dst, ...(f.probe?.protocol ? {protocol: f.probe.protocol} : {})}
        // Traffic first, so neighbour and FDB entries name each pod's veth as on a busy node.
        await probeAll(plan, [pair])
        try {
          for (const argv of f.apply) run(argv)
          const snapshot = await capture()
          const t = traceIn(snapshot, [f.src, f.dst, ...(f.args ?? [])])
          const verdict = f.verdict ?? 'dropped'
          expect([t.result.verdict, t.result.reason?.code, t.status]).toEqual([verdict, f.code, 1])
          const failing = [...t.result.hops, ...t.result.branches.flatMap((b) => b.hops)].filter((h) => h.status !== 'ok')
          expect(failing.map((h) => h.code)).toEqual([f.code])
          if (f.doctor) {
            const report = runDoctor(snapshot, CHECKS)
            expect([report.collectionErrors, keys(report), report.findings[0]?.evidence.map((e) => e.text)]).toEqual([[], f.doctor.findings, evidenceMatchers(f.doctor.evidence)])
          }
          if (f.realOutcomeVaries === undefined) {
            // Dropped packets wait for the whole timeout: half a second is plenty for a lab's answer.
            const [real] = await probeAll(plan, [{source: f.src, destination: f.dst, timeoutMs: 500, ...f.probe}])
            expect(real?.outcome).not.toBe('delivered')
            if (verdict === 'partial') expect(real?.outcome).toBe('partial')
          }
        } finally {
          for (const argv of f.restore) run(argv)
        }
        // Restored: real packets pass again (a second try allows for ARP after a link flap) and trace agrees.
        const healthyOutcome = f.code === 'netfilter-reject' ? 'refused' : 'delivered'
        let after = await probeAll(plan, [pair])
        if (after[0]?.outcome !== healthyOutcome) after = await probeAll(plan, [pair])
        expect(after[0]?.outcome).toBe(healthyOutcome)
        if (f.doctor) expect(keys(runDoctor(await capture(), CHECKS))).toEqual([])
      })
    }

    for (const c of labFaultCases(topology)) {
      it(`lab fault ${c.id}: probes, trace (${FAULT_CODES[c.id] ?? '?'}) and doctor (${c.findings.join(', ')}) from one break; heal`, async () => {
        // A busy node: each pod's neighbour and FDB entries are known before the fault.
        if (c.warmUp) await probeAll(plan, plain(c.rows.map((x) => x.probe)))
        // Service flows earlier tests left in conntrack would point at the pod some faults delete (doctor: conntrack-stale).
        for (const node of plan.nodes) run(['ip', 'netns', 'exec', node.netns, 'conntrack', '-F'])
        const {applied} = await breakFault(name, c.id, {root: lab.root})
        let healed: HealOutcome | undefined
        try {
          // Evidence first, then real packets: the order `knet trace --probe` uses.
          const early = c.probeFirst ? undefined : await capture()
          const observed = await probeAll(plan, c.rows.map((x) => x.probe))
          const snapshot = early ?? (await capture())
          const later = c.later ? await probeAll(plan, c.later.map((x) => x.probe)) : []
          const report = runDoctor(snapshot, CHECKS)
          const line = (x: Row) => (typeof x.line === 'string' ? x.line : x.line(applied))
          expect({
            probes: [...observed, ...later].map(probeLine),
            trace: traceRows(snapshot, c.rows, observed),
            doctor: keys(report),
            evidence: report.findings[0]?.evidence.map((e) => e.text),
            collectionErrors: report.collectionErrors,
          }).toEqual({
            probes: [...c.rows, ...(c.later ?? [])].map(line),
            trace: c.rows.flatMap((x) => {
              if (!x.trace) return []
              const o = observedIn(line(x))
              return [`${x.trace.join(' ')}: probe ${o}, trace ${verdictFor(o)}${o === 'delivered' ? '' : ` ${x.code ?? FAULT_CODES[c.id] ?? '?'}`}, agree`]
            }),
            doctor: c.findings,
            // A fault doctor has no finding for (yet) has no first finding to quote.
            evidence: c.findings.length === 0 ? undefined : evidenceMatchers(c.evidence),
            collectionErrors: [],
          })
          await c.whileBroken?.(lab, applied)
          // The same report replays from the snapshot of the broken lab (written and read as files are).
          const file = join(lab.root, `${c.id}.json.gz`)
          await writeSnapshot(snapshot, file)
          expect(runDoctor(await resolveAnalysisSnapshot({snapshot: file, timeoutMs: 10_000, parallel: 4, knetVersion: 'test', command: 'test'}), CHECKS)).toEqual(report)
          if (c.id === doctorViaCli) {
            // And through the command: `knet doctor --snapshot` on that file prints the live report.
            const replay = await knet(['doctor', '--snapshot', file, '-o', 'json'], {env: lab.env})
            expect(replay.status).toBe(1)
            expect(JSON.parse(replay.stdout)).toEqual(JSON.parse(renderDoctorJson(report)))
          }
        } finally {
          healed = await healFaults(name, c.id, {root: lab.root})
        }
        expect([healed.healed.map((f) => f.id), healed.remaining]).toEqual([[c.id], []])
        await healthy()
        await c.afterHeal?.(lab, applied)
      })
    }

    more?.(lab)
  }, [...LAB_TOOLS, 'iptables-save', 'iptables', 'conntrack'])
}
