/**
 * Every fault with a real mode, on one real-Kubernetes lab (`knet lab up --kubernetes DIR`, vxlan,
 * 2 nodes × 2 pods, kube-proxy iptables): the emulated suite's loop (lab-faults-suite.ts) against
 * the real programs. Healthy first: the baseline pairs are delivered, trace agrees with each real
 * probe, doctor finds nothing. Then per fault, once: `knet lab break` → one capture → the pairs its
 * real-lab expectation names are probed → trace's verdict agrees with every probe and its reason
 * code is the fault's → doctor reports the fault's check on its node with evidence → `knet lab
 * heal` → the baseline is delivered again. The realised plan is re-read after every change (a real
 * heal may give a pod a new address). Root only, and only where the real programs are (see
 * test/helpers/kubernetes.ts); otherwise skipped with the reason in the title.
 */
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../src/lib/checks/context.js'
import {CHECKS} from '../../src/lib/checks/registry.js'
import {FAULTS} from '../../src/lib/lab/faults/registry.js'
import type {AppliedFault} from '../../src/lib/lab/faults/types.js'
import type {LabPlan, Topology} from '../../src/lib/lab/plan.js'
import {probeMany, type ProbeRequest, type ProbeResult} from '../../src/lib/lab/probe.js'
import {labPlanOf, readLabState} from '../../src/lib/lab/state.js'
import type {Snapshot} from '../../src/lib/snapshot/schema.js'
import {compareWithProbe} from '../../src/lib/trace/probe.js'
import type {ReasonCode, TraceResult} from '../../src/lib/trace/types.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {kubernetesDir, kubernetesSkipReason} from '../helpers/kubernetes.js'
import {netnsSkipReason} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {labNamespaces, tempLabRoot} from '../lib/lab/lab-harness.js'
import {captureLab, traceIn} from '../lib/trace/trace-lab-helpers.js'

const TOPOLOGY: Topology = 'vxlan'
const BIN = kubernetesDir()
const skipReason = netnsSkipReason ?? kubernetesSkipReason()

type Outcome = 'delivered' | 'dropped' | 'partial'

/** One pair: the `knet trace` arguments, the probe that sends the same packet, what the probe must see. */
interface Pair {
  trace: string[]
  probe: ProbeRequest
  outcome: Outcome
  /** What the probe sees of a dropped packet when it is not a timeout (an ICMP error sent back). */
  observed?: 'error'
  /** When this pair meets another code than the fault's (stale-nat's direct pair reaches an address no pod has). */
  code?: ReasonCode
}

/** What a fault must do on the real lab: its pairs (from the realised plan), trace's code, doctor's finding. */
interface FaultCase {
  code: ReasonCode
  /** The finding doctor must report; `misses` instead: why doctor reports nothing yet (a known gap, named in the title). */
  doctor: {check: string; node?: string; subject?: string; misses?: string}
  pairs(plan: LabPlan, applied: AppliedFault, before: LabPlan): Pair[]
  /** Traffic between the pairs before the break (a detached veth's pod is then still in node-2's neighbour table). */
  warmUp?: boolean
  /** Probe before the capture: 172.17.x.y is in no API object, only node-2's neighbour entry (which traffic makes) says whose it is. */
  probeFirst?: boolean
}

const DROP = 500

function pod(source: string, destination: string, outcome: Outcome, protocol: 'tcp' | 'udp' | 'icmp' = 'tcp', extra: Partial<ProbeRequest> = {}): Pair {
  const trace = [source, destination, ...(protocol === 'tcp' ? [] : ['--protocol', protocol]), ...(extra.size ? ['--size', String(extra.size)] : [])]
  // A packet expected to be dropped waits its whole timeout: half a second is plenty for a lab's answer.
  const probe = {source, destination, protocol, ...(outcome === 'dropped' && protocol !== 'icmp' ? {timeoutMs: DROP} : {}), ...extra}
  return {trace, probe, outcome}
}

/** A Service pair; a partial one gets many short attempts so every live endpoint is seen. */
function svc(source: string, service: string, outcome: Outcome, attempts?: number): Pair {
  const extra = outcome === 'delivered' ? {} : {attempts: attempts ?? (outcome === 'dropped' ? 2 : 40), timeoutMs: DROP}
  return {trace: [source, `svc/default/${service}`], probe: {source, destination: `svc/default/${service}`, ...extra}, outcome}
}

function nodeIp(plan: LabPlan, name: string): string {
  const ip = plan.nodes.find((n) => n.name === name)?.underlayIp
  if (!ip) throw new Error(`no node ${name} in the realised plan`)
  return ip
}

function podIp(plan: LabPlan, name: string): string {
  const ip = plan.pods.find((p) => p.name === name)?.ip
  if (!ip) throw new Error(`no pod ${name} in the realised plan`)
  return ip
}

/** pod → pod on one node, across nodes, pod → Service, pod → NodePort through another node's address. */
function baseline(plan: LabPlan): Pair[] {
  const nodePort = `${nodeIp(plan, 'node-2')}:30080`
  return [
    pod('web-1-1', 'web-1-2', 'delivered'),
    pod('web-1-1', 'web-2-1', 'delivered'),
    pod('web-2-2', 'web-1-2', 'delivered', 'udp'),
    svc('web-1-2', 'web', 'delivered'),
    {trace: ['web-1-2', nodePort], probe: {source: 'web-1-2', destination: nodePort}, outcome: 'delivered'},
  ]
}

/**
 * Each fault with a real mode, on vxlan with the real-lab defaults (`knet lab break --list`):
 * the pairs its real-lab expectation names, trace's reason code, doctor's check and node.
 */
const CASES: Record<string, FaultCase> = {
  'missing-route': {
    code: 'route-missing',
    doctor: {check: 'route-missing', node: 'node-1'},
    pairs: () => [pod('web-1-1', 'web-2-1', 'dropped'), pod('web-2-1', 'web-1-2', 'dropped', 'udp'), pod('web-1-1', 'web-2-2', 'dropped', 'icmp'), pod('web-1-1', 'web-1-2', 'delivered')],
  },
  'stale-route': {
    code: 'route-nexthop-wrong',
    doctor: {check: 'route-nexthop-wrong', node: 'node-1'},
    pairs: () => [pod('web-1-1', 'web-2-1', 'dropped'), pod('web-2-2', 'web-1-1', 'dropped'), pod('web-1-1', 'web-1-2', 'delivered')],
  },
  'docker0-overlap': {
    code: 'cidr-overlap',
    doctor: {check: 'cidr-overlap', node: 'node-1'},
    probeFirst: true,
    pairs: (_plan, applied) => {
      const ip = String(applied.data?.ip)
      return [pod('web-1-1', `${ip}:8080`, 'dropped'), pod('web-1-2', ip, 'dropped', 'icmp'), pod('web-2-1', `${ip}:8080`, 'delivered'), pod('web-1-1', 'web-2-2', 'delivered')]
    },
  },
  'cidr-overlap': {
    code: 'cidr-overlap',
    doctor: {check: 'cidr-overlap', node: 'node-1'},
    pairs: () => [pod('web-1-1', 'web-2-1', 'dropped'), pod('web-2-2', 'web-1-2', 'dropped', 'udp'), pod('web-1-1', 'web-1-2', 'delivered'), pod('web-2-1', 'web-2-2', 'delivered')],
  },
  'stale-nat': {
    code: 'nat-stale-endpoint',
    doctor: {check: 'nat-stale-endpoint', node: 'node-1'},
    pairs: (_plan, _applied, before) => {
      // web-2-2 is gone from the API: trace and probe name its old address.
      const old = `${podIp(before, 'web-2-2')}:8080`
      return [svc('web-1-1', 'web', 'partial'), {...pod('web-1-1', old, 'dropped'), code: 'address-unowned'}, pod('web-1-1', 'web-2-1', 'delivered')]
    },
  },
  'missing-nat': {
    code: 'nat-missing-service',
    doctor: {check: 'nat-missing-service', node: 'node-1'},
    // node-1 routes the untranslated ClusterIP to its default route; the router has no route for
    // the Service range and answers "unreachable", so the real packet is an error, not the timeout
    // `knet lab break --list` names for the real lab (trace's dropped agrees with either).
    pairs: () => [{...svc('web-1-1', 'web-new', 'dropped'), observed: 'error'}, svc('web-2-1', 'web-new', 'delivered'), svc('web-1-1', 'web', 'delivered'), pod('web-1-1', 'web-2-1', 'delivered')],
  },
  'ip-forward-off': {
    code: 'ip-forward-off',
    doctor: {check: 'ip-forward-off', node: 'node-1'},
    pairs: () => [pod('web-1-1', 'web-2-1', 'dropped'), pod('web-2-1', 'web-1-1', 'dropped'), svc('web-1-1', 'dns', 'dropped'), pod('web-1-1', 'web-1-2', 'delivered')],
  },
  'forward-drop': {
    code: 'forward-drop',
    doctor: {check: 'forward-policy-drop', node: 'node-1'},
    pairs: () => [pod('web-1-1', 'web-2-1', 'dropped'), pod('web-2-1', 'web-1-1', 'dropped'), pod('web-1-1', 'web-1-2', 'dropped'), svc('web-1-2', 'dns', 'dropped'), pod('web-2-1', 'web-2-2', 'delivered')],
  },
  'bridge-nf-off': {
    code: 'bridge-nf-off',
    doctor: {check: 'bridge-nf-call-off', node: 'node-1'},
    pairs: () => [svc('web-1-2', 'dns', 'partial', 24), pod('web-1-2', 'web-1-1', 'delivered', 'udp'), svc('web-2-2', 'dns', 'delivered')],
  },
  'veth-detached': {
    code: 'veth-detached',
    // The bridge plugin names host veths veth + 8 hex digits; the check once took that for a routed
    // CNI's veth and skipped every pod veth on a real bridge lab (this suite found it).
    doctor: {check: 'veth-detached', node: 'node-2'},
    warmUp: true,
    pairs: () => [pod('web-1-1', 'web-2-2', 'dropped'), pod('web-2-1', 'web-2-2', 'dropped'), pod('web-2-2', 'web-1-1', 'dropped'), svc('web-1-1', 'web', 'partial'), pod('web-1-1', 'web-2-1', 'delivered')],
  },
  'bridge-down': {
    code: 'link-down',
    doctor: {check: 'bridge-down', node: 'node-1'},
    pairs: () => [pod('web-1-1', 'web-1-2', 'dropped'), pod('web-1-1', 'web-2-1', 'dropped'), pod('web-2-1', 'web-1-1', 'dropped', 'icmp'), pod('web-2-1', 'web-2-2', 'delivered')],
  },
  'mtu-mismatch': {
    code: 'mtu-exceeded',
    doctor: {check: 'mtu-mismatch', node: 'node-1'},
    // vxlan: 1450 − 28 = 1422 payload bytes fill the pod MTU; 1322 fit node-1's eth0 at 1400 with VXLAN's 50.
    pairs: () => [
      pod('web-1-1', 'web-2-1', 'delivered', 'icmp', {size: 1322}),
      pod('web-1-1', 'web-2-1', 'dropped', 'icmp', {size: 1422}),
      pod('web-2-2', 'web-1-2', 'dropped', 'icmp', {size: 1422}),
      pod('web-1-1', 'web-1-2', 'delivered', 'icmp', {size: 1422}),
      pod('web-1-1', 'web-2-1', 'delivered'),
    ],
  },
  'netpol-deny': {
    code: 'netpol-denied',
    doctor: {check: 'netpol-isolates', subject: 'networkpolicy/default/deny-ingress-web-2-2'},
    pairs: () => [pod('web-1-1', 'web-2-2', 'dropped'), pod('web-2-1', 'web-2-2', 'dropped'), pod('web-2-2', 'web-1-1', 'delivered'), svc('web-1-1', 'web', 'partial'), pod('web-1-1', 'web-2-1', 'delivered')],
  },
  'missing-fdb': {
    code: 'route-missing',
    doctor: {check: 'route-missing', node: 'node-1'},
    pairs: () => [pod('web-1-1', 'web-2-1', 'dropped'), pod('web-2-1', 'web-1-2', 'dropped', 'udp'), pod('web-1-1', 'web-1-2', 'delivered')],
  },
}

/** The code a result gives for its failure: its own, or (a partial Service) its failing branches'. */
function codesOf(t: TraceResult): string[] {
  if (t.reason) return [t.reason.code]
  return [...new Set(t.branches.filter((b) => b.verdict !== 'delivered').map((b) => b.reason?.code ?? '?'))]
}

/** "ARGS: probe OUTCOME, trace VERDICT[ CODES], agree|DISAGREE", per pair. */
function rows(snapshot: Snapshot, pairs: Pair[], probes: ProbeResult[]): string[] {
  return pairs.map((p, i) => {
    const t = traceIn(snapshot, p.trace).result
    const o = probes[i]
    const agrees = o ? compareWithProbe(t, o).agrees : null
    const codes = t.verdict === 'delivered' ? '' : ` ${codesOf(t).join(',')}`
    return `${p.trace.join(' ')}: probe ${o?.outcome ?? '?'}${o?.outcome === 'partial' ? ` [${o.answeredBy.join(',')}]` : ''}, trace ${t.verdict}${codes}, ${agrees ? 'agree' : 'DISAGREE'}`
  })
}

/** The rows expected: each probe as the pair says, the fault's code on every failing one, all agreeing. */
function expectedRows(pairs: Pair[], probes: ProbeResult[], code?: ReasonCode): string[] {
  return pairs.map((p, i) => {
    const probe = p.outcome === 'dropped' ? (p.observed ?? 'timeout') : p.outcome
    const answered = p.outcome === 'partial' ? ` [${probes[i]?.answeredBy.join(',') ?? '?'}]` : ''
    const codes = p.outcome === 'delivered' ? '' : ` ${p.code ?? code ?? '?'}`
    return `${p.trace.join(' ')}: probe ${probe}${answered}, trace ${p.outcome}${codes}, agree`
  })
}

const title = `knet lab break/heal on a real lab (--kubernetes, ${TOPOLOGY}, 2 nodes, kube-proxy iptables): probe, trace and doctor agree [root]`

if (skipReason) {
  describe.skip(`${title} [skipped: ${skipReason}]`, () => it('runs', () => undefined))
} else {
  describe(title, () => {
    const name = uniqueLabName('rfx')
    const env: NodeJS.ProcessEnv = {KNET_KUBERNETES: BIN}
    let root = ''

    const plan = async (): Promise<LabPlan> => {
      const s = await readLabState(name, root)
      if (!s) throw new Error(`no state for ${name}`)
      return labPlanOf(s)
    }
    const capture = (): Promise<Snapshot> => captureLab(name, root)
    /** Doctor's error and warning findings as "severity check node-or-subject". */
    const problems = (snapshot: Snapshot): string[] =>
      runDoctor(snapshot, CHECKS)
        .findings.filter((f) => f.severity === 'error' || f.severity === 'warn')
        .map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.name}`}`)

    /** The baseline is delivered by real packets and trace agrees with each. */
    const baselineDelivered = async (): Promise<Snapshot> => {
      const p = await plan()
      const pairs = baseline(p)
      const probes = await probeMany(p, pairs.map((x) => x.probe))
      const snapshot = await capture()
      expect(rows(snapshot, pairs, probes)).toEqual(expectedRows(pairs, probes))
      return snapshot
    }

    beforeAll(async () => {
      root = tempLabRoot(name)
      env.KNET_LAB_DIR = root
      process.env.KNET_LAB_DIR = root
      const t0 = Date.now()
      const up = await knet(['lab', 'up', '--name', name, '--kubernetes', BIN as string, '--nodes', '2', '--topology', TOPOLOGY, '--proxy-mode', 'iptables'], {env})
      process.stderr.write(`real lab up (${TOPOLOGY}, 2 nodes) took ${Date.now() - t0} ms\n`)
      expect([up.status, up.stderr]).toEqual([0, expect.stringContaining(`lab ${name} is up (${TOPOLOGY}, 2 nodes × 2 pods)`)])
    }, 400_000)

    afterAll(async () => {
      if (!root) return
      const down = await knet(['lab', 'down', '--name', name], {env})
      rmSync(root, {recursive: true, force: true})
      expect(down.status, down.stderr).toBe(0)
      expect(labNamespaces(name)).toEqual([])
    }, 120_000)

    it('healthy: the baseline pairs are delivered, trace agrees with each, doctor finds no error or warning', async () => {
      const snapshot = await baselineDelivered()
      const report = runDoctor(snapshot, CHECKS)
      expect({problems: problems(snapshot), collectionErrors: report.collectionErrors}).toEqual({problems: [], collectionErrors: []})
    }, 120_000)

    for (const fault of FAULTS.filter((f) => f.real)) {
      const refused = fault.real?.refused ?? fault.notFor?.[TOPOLOGY]
      const c = CASES[fault.id]
      if (refused) {
        it.skip(`${fault.id} [skipped: refused on a real ${TOPOLOGY} lab: ${refused}]`, () => undefined)
        continue
      }
      if (!c) {
        it(`${fault.id} has a case in this file's table`, () => expect(CASES).toHaveProperty(fault.id))
        continue
      }
      const doctorWhere = c.doctor.node ?? c.doctor.subject ?? '?'
      const doctorTitle = c.doctor.misses ? `doctor ${c.doctor.check} not asserted [known miss: ${c.doctor.misses}]` : `doctor ${c.doctor.check} on ${doctorWhere}`
      it(`${fault.id}: real probes, trace (${c.code}) agreeing with each, ${doctorTitle}; heal → baseline delivered`, async () => {
        const before = await plan()
        if (c.warmUp) await probeMany(before, c.pairs(before, {id: fault.id, node: '', target: '', appliedAt: '', undo: []}, before).map((x) => x.probe))
        const t0 = Date.now()
        const broke = await knet(['lab', 'break', fault.id, '--name', name, '--json'], {env})
        expect(broke.status, broke.stderr).toBe(0)
        const applied = (JSON.parse(broke.stdout) as {applied: AppliedFault}).applied
        let healed = false
        try {
          const broken = await plan()
          const pairs = c.pairs(broken, applied, before)
          let probes: ProbeResult[] = []
          if (c.probeFirst) probes = await probeMany(broken, pairs.map((x) => x.probe))
          const snapshot = await capture()
          if (!c.probeFirst) probes = await probeMany(broken, pairs.map((x) => x.probe))
          expect(rows(snapshot, pairs, probes), probes.map((o) => `${o.destination.input}: ${o.outcome} ${o.detail ?? ''}`).join('; ')).toEqual(expectedRows(pairs, probes, c.code))
          const report = runDoctor(snapshot, CHECKS)
          const where = (f: (typeof report.findings)[number]): string => (c.doctor.node ? (f.node ?? '') : `${f.subject.kind}/${f.subject.namespace ?? ''}/${f.subject.name}`.toLowerCase())
          const found = report.findings.filter((f) => f.check === c.doctor.check && where(f) === doctorWhere)
          if (!c.doctor.misses) expect(found.length, `no ${c.doctor.check} on ${doctorWhere} in ${JSON.stringify(report.findings.map((f) => `${f.severity} ${f.check} ${where(f)}`))}`).toBeGreaterThan(0)
          expect(found.every((f) => f.evidence.length > 0 && f.evidence.every((e) => e.text.length > 0))).toBe(true)
          expect(report.collectionErrors).toEqual([])
        } finally {
          const heal = await knet(['lab', 'heal', fault.id, '--name', name], {env})
          healed = heal.status === 0
          expect(heal.status, heal.stderr).toBe(0)
        }
        expect(healed).toBe(true)
        await baselineDelivered()
        process.stderr.write(`real lab fault ${fault.id}: break → heal → healthy in ${Date.now() - t0} ms\n`)
      }, 240_000)
    }
  })
}
