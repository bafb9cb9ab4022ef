/**
 * The real-lab fault suite, shared by test/commands/lab-faults-real*.test.ts: one real-Kubernetes
 * lab (`knet lab up --kubernetes DIR`, 2 nodes × 2 pods) per file, with the topology (flannel's
 * backend) and kube-proxy mode the file names. Healthy first: the baseline pairs (and the file's
 * extra ones) are delivered or refused as they should be, trace agrees with each real probe, doctor
 * finds nothing. Then per fault, once: `knet lab break` → one capture → the pairs its real-lab
 * expectation names are probed → trace's verdict agrees with every probe and its reason code is the
 * fault's → doctor reports the fault's check on its node with evidence (for the NAT faults: the
 * rule of the node's kube-proxy mode) → `knet lab heal` → the baseline is delivered again. Every
 * address comes from the realised plan (labPlanOf), re-read after every change: a real heal may give
 * a pod a new address, and KCM's node IPAM gives the nodes other pod CIDRs than the emulated lab's.
 * Root only, and only where the real programs are (see test/helpers/kubernetes.ts); otherwise
 * skipped with the reason in the title.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {FAULTS} from '../../../src/lib/lab/faults/registry.js'
import {LOWERED_NIC_MTU} from '../../../src/lib/lab/faults/mtu-mismatch.js'
import type {AppliedFault} from '../../../src/lib/lab/faults/types.js'
import {UNDERLAY_MTU, type LabPlan, type Topology} from '../../../src/lib/lab/plan.js'
import {type ProbeRequest, type ProbeResult} from '../../../src/lib/lab/probe.js'
import type {ProxyMode} from '../../../src/lib/lab/real/configs.js'
import {labPlanOf, type LabState} from '../../../src/lib/lab/state.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {compareWithProbe} from '../../../src/lib/trace/probe.js'
import type {ReasonCode, TraceResult} from '../../../src/lib/trace/types.js'
import {knetAsync as knet} from '../../helpers/cli.js'
import {kubernetesDir, kubernetesSkipReason} from '../../helpers/kubernetes.js'
import {netnsSkipReason} from '../../helpers/netns.js'
import {uniqueLabName} from '../../helpers/unique.js'
import {captureLab, traceIn, whyUnknown} from '../trace/trace-lab-helpers.js'
import {downLab, tempLabRoot, probeAll, upLabState} from './lab-harness.js'

type Outcome = 'delivered' | 'dropped' | 'partial'

/** One pair: the `knet trace` arguments, the probe that sends the same packet, what the probe must see. */
export interface Pair {
  trace: string[]
  probe: ProbeRequest
  outcome: Outcome
  /** What the probe sees of a dropped packet when it is not a timeout (an ICMP error, a TCP reset). */
  observed?: 'error' | 'refused'
  /** When this pair meets another code than the fault's (stale-nat's direct pair reaches an address no pod has). */
  code?: ReasonCode
}

/** What a fault must do on the real lab: its pairs (from the realised plan), trace's code, doctor's finding. */
export interface FaultCase {
  code: ReasonCode
  /**
   * The finding doctor must report; `evidence`: a line one of its evidence items must match (the
   * nft rule or map element in nftables mode); `misses` instead: why doctor reports nothing yet (a
   * known gap, named in the title).
   */
  doctor: {check: string; node?: string; subject?: string; evidence?: RegExp; misses?: string}
  pairs(plan: LabPlan, applied: AppliedFault, before: LabPlan): Pair[]
  /** Traffic between the pairs before the break (a detached veth's pod is then still in node-2's neighbour table). */
  warmUp?: boolean
  /** Probe before the capture: 172.17.x.y is in no API object, only node-2's neighbour entry (which traffic makes) says whose it is. */
  probeFirst?: boolean
}

/** What a lab gives a file's own workload and pairs: its state (kubeconfig) and realised plan. */
export interface RealLabHandle {
  name: string
  state(): Promise<LabState>
  plan(): Promise<LabPlan>
}

export interface RealFaultsSuiteOptions {
  /** The lab's name before uniqueLabName makes it this test process's own (at most 5 characters). */
  tag: string
  topology: Topology
  proxyMode: ProxyMode
  /** The faults to run (default: every fault with a real mode); the others are not registered. */
  faults?: string[]
  /** Cases where the file's lab differs from the shared table (another backend, another proxy mode). */
  cases?: Record<string, FaultCase>
  /** Workload the file adds through the API once the lab is up (a Service kind the plan lacks). */
  setup?(lab: RealLabHandle): Promise<void>
  /** Pairs checked with the baseline on the healthy lab (only there: a fault's case names its own). */
  healthyPairs?(plan: LabPlan): Pair[]
}

const DROP = 500

export function pod(source: string, destination: string, outcome: Outcome, protocol: 'tcp' | 'udp' | 'icmp' = 'tcp', extra: Partial<ProbeRequest> = {}): Pair {
  const trace = [source, destination, ...(protocol === 'tcp' ? [] : ['--protocol', protocol]), ...(extra.size ? ['--size', String(extra.size)] : [])]
  // A packet expected to be dropped waits its whole timeout: half a second is plenty for a lab's answer.
  const probe = {source, destination, protocol, ...(outcome === 'dropped' ? {timeoutMs: protocol === 'icmp' ? 1000 : DROP} : {}), ...extra}
  return {trace, probe, outcome}
}

/** A Service pair; a partial one gets many short attempts so every live endpoint is seen. */
export function svc(source: string, service: string, outcome: Outcome, attempts?: number): Pair {
  const extra = outcome === 'delivered' ? {} : {attempts: attempts ?? (outcome === 'dropped' ? 2 : 40), timeoutMs: DROP}
  return {trace: [source, `svc/default/${service}`], probe: {source, destination: `svc/default/${service}`, ...extra}, outcome}
}

/** An address and port (a NodePort through a node's IP): the same request for trace and probe. */
export function addr(source: string, destination: string, outcome: Outcome): Pair {
  return {trace: [source, destination], probe: {source, destination, ...(outcome === 'delivered' ? {} : {attempts: 2, timeoutMs: DROP})}, outcome}
}

export function nodeIp(plan: LabPlan, name: string): string {
  const ip = plan.nodes.find((n) => n.name === name)?.underlayIp
  if (!ip) throw new Error(`no node ${name} in the realised plan`)
  return ip
}

export function podIp(plan: LabPlan, name: string): string {
  const ip = plan.pods.find((p) => p.name === name)?.ip
  if (!ip) throw new Error(`no pod ${name} in the realised plan`)
  return ip
}

/** A plan Service's NodePort (the plan's web-np), as `NODE-IP:PORT` through `node`. */
export function nodePortOf(plan: LabPlan, service: string, node: string): string {
  const port = plan.services.find((s) => s.name === service)?.ports.find((p) => p.nodePort !== undefined)?.nodePort
  if (port === undefined) throw new Error(`no NodePort Service ${service} in the realised plan`)
  return `${nodeIp(plan, node)}:${port}`
}

/** pod → pod on one node, across nodes, pod → Service, pod → NodePort through another node's address. */
export function baseline(plan: LabPlan): Pair[] {
  return [
    pod('web-1-1', 'web-1-2', 'delivered'),
    pod('web-1-1', 'web-2-1', 'delivered'),
    pod('web-2-2', 'web-1-2', 'delivered', 'udp'),
    svc('web-1-2', 'web', 'delivered'),
    addr('web-1-2', nodePortOf(plan, 'web-np', 'node-2'), 'delivered'),
  ]
}

/** ICMP payloads around node-1's lowered NIC MTU: one that fits with the backend's overhead, one that fills the pod MTU. */
export function mtuSizes(plan: LabPlan): {small: number; full: number} {
  const pod = plan.pods[0]?.mtu ?? UNDERLAY_MTU
  const overhead = UNDERLAY_MTU - pod
  return {small: LOWERED_NIC_MTU - overhead - 28, full: pod - 28}
}

/**
 * Each fault with a real mode, on vxlan with kube-proxy iptables and the real-lab defaults (`knet
 * lab break --list`): the pairs its real-lab expectation names, trace's reason code, doctor's check
 * and node. A file for another backend or proxy mode overrides the cases that differ there.
 */
export const REAL_CASES: Record<string, FaultCase> = {
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
    // `knet lab break --list` names for the emulated lab (trace's dropped agrees with either).
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
    pairs: (plan) => {
      const {small, full} = mtuSizes(plan)
      return [
        pod('web-1-1', 'web-2-1', 'delivered', 'icmp', {size: small}),
        pod('web-1-1', 'web-2-1', 'dropped', 'icmp', {size: full}),
        pod('web-2-2', 'web-1-2', 'dropped', 'icmp', {size: full}),
        pod('web-1-1', 'web-1-2', 'delivered', 'icmp', {size: full}),
        pod('web-1-1', 'web-2-1', 'delivered'),
      ]
    },
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
export function codesOf(t: TraceResult): string[] {
  if (t.reason) return [t.reason.code]
  return [...new Set(t.branches.filter((b) => b.verdict !== 'delivered').map((b) => b.reason?.code ?? '?'))]
}

/** "ARGS: probe OUTCOME, trace VERDICT[ CODES], agree|DISAGREE", per pair. */
export function rows(snapshot: Snapshot, pairs: Pair[], probes: ProbeResult[]): string[] {
  return pairs.map((p, i) => {
    const t = traceIn(snapshot, p.trace).result
    const o = probes[i]
    const agrees = o ? compareWithProbe(t, o).agrees : null
    const codes = t.verdict === 'delivered' ? '' : ` ${codesOf(t).join(',')}`
    return `${p.trace.join(' ')}: probe ${o?.outcome ?? '?'}${o?.outcome === 'partial' ? ` [${o.answeredBy.join(',')}]` : ''}, trace ${t.verdict}${codes}, ${agrees ? 'agree' : 'DISAGREE'}${agrees ? '' : whyUnknown(snapshot, t)}`
  })
}

/** The rows expected: each probe as the pair says, the fault's code on every failing one, all agreeing. */
export function expectedRows(pairs: Pair[], probes: ProbeResult[], code?: ReasonCode): string[] {
  return pairs.map((p, i) => {
    const probe = p.outcome === 'dropped' ? (p.observed ?? 'timeout') : p.outcome
    const answered = p.outcome === 'partial' ? ` [${probes[i]?.answeredBy.join(',') ?? '?'}]` : ''
    const codes = p.outcome === 'delivered' ? '' : ` ${p.code ?? code ?? '?'}`
    return `${p.trace.join(' ')}: probe ${probe}${answered}, trace ${p.outcome}${codes}, agree`
  })
}

export function realFaultsSuite(options: RealFaultsSuiteOptions): void {
  const {tag, topology, proxyMode} = options
  const BIN = kubernetesDir()
  const skipReason = netnsSkipReason ?? kubernetesSkipReason()
  const cases: Record<string, FaultCase> = {...REAL_CASES, ...options.cases}
  const title = `knet lab break/heal on a real lab (--kubernetes, ${topology}, 2 nodes, kube-proxy ${proxyMode}): probe, trace and doctor agree [root]`

  if (skipReason) {
    describe.skip(`${title} [skipped: ${skipReason}]`, () => it('runs', () => undefined))
    return
  }
  describe(title, () => {
    const name = uniqueLabName(tag)
    const env: NodeJS.ProcessEnv = {KNET_KUBERNETES: BIN}
    let root = ''

    const state = (): Promise<LabState> => upLabState(name, root)
    const plan = async (): Promise<LabPlan> => labPlanOf(await state())
    const capture = (): Promise<Snapshot> => captureLab(name, root)
    /** Doctor's error and warning findings as "severity check node-or-subject". */
    const problems = (snapshot: Snapshot): string[] =>
      runDoctor(snapshot, CHECKS)
        .findings.filter((f) => f.severity === 'error' || f.severity === 'warn')
        .map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.name}`}`)

    /** The pairs are delivered (or dropped, as each says) by real packets and trace agrees with each. */
    const pairsAgree = async (extra: (p: LabPlan) => Pair[] = () => []): Promise<Snapshot> => {
      const p = await plan()
      const pairs = [...baseline(p), ...extra(p)]
      const probes = await probeAll(p, pairs.map((x) => x.probe))
      const snapshot = await capture()
      expect(rows(snapshot, pairs, probes), probes.map((o) => `${o.destination.input}: ${o.outcome} ${o.detail ?? ''}`).join('; ')).toEqual(expectedRows(pairs, probes))
      return snapshot
    }

    beforeAll(async () => {
      root = tempLabRoot(name)
      env.KNET_LAB_DIR = root
      process.env.KNET_LAB_DIR = root
      const t0 = Date.now()
      const up = await knet(['lab', 'up', '--name', name, '--kubernetes', BIN as string, '--nodes', '2', '--topology', topology, '--proxy-mode', proxyMode], {env})
      process.stderr.write(`real lab up (${topology}, kube-proxy ${proxyMode}, 2 nodes) took ${Date.now() - t0} ms\n`)
      expect([up.status, up.stderr]).toEqual([0, expect.stringContaining(`lab ${name} is up (${topology}, 2 nodes × 2 pods)`)])
      await options.setup?.({name, state, plan})
    }, 900_000)

    afterAll(async () => {
      await downLab(name, root, env)
    }, 600_000)

    it(`healthy: the baseline pairs are delivered${options.healthyPairs ? " and the file's own are as it says" : ''}, trace agrees with each, doctor finds no error or warning`, async () => {
      const snapshot = await pairsAgree(options.healthyPairs)
      const report = runDoctor(snapshot, CHECKS)
      expect({problems: problems(snapshot), collectionErrors: report.collectionErrors}).toEqual({problems: [], collectionErrors: []})
    }, 450_000)

    const chosen = FAULTS.filter((f) => f.real && (!options.faults || options.faults.includes(f.id)))
    const unknown = (options.faults ?? []).filter((id) => !chosen.some((f) => f.id === id))
    if (unknown.length > 0) throw new Error(`no fault with a real mode: ${unknown.join(', ')}`)
    for (const fault of chosen) {
      const refused = fault.real?.refused ?? fault.notFor?.[topology]
      const c = cases[fault.id]
      if (refused) {
        it.skip(`${fault.id} [skipped: refused on a real ${topology} lab: ${refused}]`, () => undefined)
        continue
      }
      if (!c) {
        it(`${fault.id} has a case in this file's table`, () => expect(cases).toHaveProperty(fault.id))
        continue
      }
      const doctorWhere = c.doctor.node ?? c.doctor.subject ?? '?'
      const doctorTitle = c.doctor.misses ? `doctor ${c.doctor.check} not asserted [known miss: ${c.doctor.misses}]` : `doctor ${c.doctor.check} on ${doctorWhere}`
      it(`${fault.id}: real probes, trace (${c.code}) agreeing with each, ${doctorTitle}; heal → baseline delivered`, async () => {
        const before = await plan()
        if (c.warmUp) await probeAll(before, c.pairs(before, {id: fault.id, node: '', target: '', appliedAt: '', undo: []}, before).map((x) => x.probe))
        const t0 = Date.now()
        const broke = await knet(['lab', 'break', fault.id, '--name', name, '--json'], {env})
        expect(broke.status, broke.stderr).toBe(0)
        const applied = (JSON.parse(broke.stdout) as {applied: AppliedFault}).applied
        let healed = false
        try {
          const broken = await plan()
          const pairs = c.pairs(broken, applied, before)
          let probes: ProbeResult[] = []
          if (c.probeFirst) probes = await probeAll(broken, pairs.map((x) => x.probe))
          const snapshot = await capture()
          if (!c.probeFirst) probes = await probeAll(broken, pairs.map((x) => x.probe))
          expect(rows(snapshot, pairs, probes), probes.map((o) => `${o.destination.input}: ${o.outcome} ${o.detail ?? ''}`).join('; ')).toEqual(expectedRows(pairs, probes, c.code))
          const report = runDoctor(snapshot, CHECKS)
          const where = (f: (typeof report.findings)[number]): string => (c.doctor.node ? (f.node ?? '') : `${f.subject.kind}/${f.subject.namespace ?? ''}/${f.subject.name}`.toLowerCase())
          const found = report.findings.filter((f) => f.check === c.doctor.check && where(f) === doctorWhere)
          if (!c.doctor.misses) expect(found.length, `no ${c.doctor.check} on ${doctorWhere} in ${JSON.stringify(report.findings.map((f) => `${f.severity} ${f.check} ${where(f)}`))}`).toBeGreaterThan(0)
          expect(found.every((f) => f.evidence.length > 0 && f.evidence.every((e) => e.text.length > 0))).toBe(true)
          const proof = c.doctor.evidence
          if (proof) expect(found.flatMap((f) => f.evidence.map((e) => e.text)).filter((t) => proof.test(t)), JSON.stringify(found.map((f) => f.evidence))).not.toEqual([])
          expect(report.collectionErrors).toEqual([])
        } finally {
          const heal = await knet(['lab', 'heal', fault.id, '--name', name], {env})
          healed = heal.status === 0
          expect(heal.status, heal.stderr).toBe(0)
        }
        expect(healed).toBe(true)
        await pairsAgree()
        process.stderr.write(`real lab (${topology}, kube-proxy ${proxyMode}) fault ${fault.id}: break → heal → healthy in ${Date.now() - t0} ms\n`)
        // A hang detector, not a speed limit: on two cores shared with a second CI run one fault's
        // break, probes, capture, heal (a controller's repair) and healthy check took 240 s.
      }, 900_000)
    }
  })
}
