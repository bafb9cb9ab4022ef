/**
 * Shared by test/commands/lab-dualstack*.test.ts (issue 16, the lab side): one emulated lab per
 * topology, built with `knet lab up --ip-family dual|ipv6`, checked in three ways from the same lab:
 *  - real packets: every kind of pair (same node, across nodes over tcp/udp/icmp, a node to a pod,
 *    a Service over tcp and udp, a NodePort) is delivered in each family, answered by the right pods;
 *  - trace agrees with those packets in each family (one capture of the lab), and doctor on the
 *    healthy lab finds nothing;
 *  - each per-family fault broken for IPv6 (`knet lab break … --ip-family 6`): the IPv6 probes show
 *    it, trace gives its reason code, doctor names it, and IPv4 stays delivered; heal restores IPv6.
 * Root only (network namespaces).
 */
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {breakFault, healFaults} from '../../../src/lib/lab/faults/run.js'
import {planLab, VXLAN, VXLAN6, type Family, type IpFamilyChoice, type LabPlan, type Topology} from '../../../src/lib/lab/plan.js'
import type {ProbeRequest, ProbeResult} from '../../../src/lib/lab/probe.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {compareWithProbe} from '../../../src/lib/trace/probe.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'
import {knetAsync as knet} from '../../helpers/cli.js'
import {describeLabFaults} from '../../helpers/netns.js'
import {uniqueLabName} from '../../helpers/unique.js'
import {captureLab, traceRequest, whyUnknown} from '../trace/trace-lab-helpers.js'
import {LAB_TOOLS, labNamespaces, probeAll, summarise, tempLabRoot} from './lab-harness.js'

/** One kind of pair: the probe, the `knet trace` arguments for the same packet, and the pods that must answer. */
export interface Pair {
  kind: string
  probe: Omit<ProbeRequest, 'family'>
  trace: string[]
  answers: string[]
}

/** A node's address in a family, bracketed for a port (as a user writes it). */
function nodeAddr(plan: LabPlan, name: string, family: Family): string {
  const node = plan.nodes.find((n) => n.name === name)
  if (!node) throw new Error(`no ${name}`)
  return family === 6 ? `[${node.v6?.underlayIp}]` : node.underlayIp
}

export function pairs(plan: LabPlan, family: Family): Pair[] {
  return [
    {kind: 'same node tcp', probe: {source: 'web-1-1', destination: 'web-1-2', protocol: 'tcp'}, trace: ['web-1-1', 'web-1-2', '--protocol', 'tcp'], answers: ['web-1-2']},
    {kind: 'cross node tcp', probe: {source: 'web-1-1', destination: 'web-2-2', protocol: 'tcp'}, trace: ['web-1-1', 'web-2-2', '--protocol', 'tcp'], answers: ['web-2-2']},
    {kind: 'cross node udp', probe: {source: 'web-2-1', destination: 'web-1-1', protocol: 'udp'}, trace: ['web-2-1', 'web-1-1', '--protocol', 'udp'], answers: ['web-1-1']},
    {kind: 'cross node icmp', probe: {source: 'web-1-2', destination: 'web-2-1', protocol: 'icmp'}, trace: ['web-1-2', 'web-2-1', '--protocol', 'icmp'], answers: ['web-2-1']},
    {kind: 'node to pod', probe: {source: 'node/node-1', destination: 'web-2-2', protocol: 'tcp'}, trace: ['node/node-1', 'web-2-2', '--protocol', 'tcp'], answers: ['web-2-2']},
    {kind: 'service tcp', probe: {source: 'web-1-1', destination: 'svc/default/web'}, trace: ['web-1-1', 'svc/default/web:80'], answers: ['web-1-1', 'web-1-2', 'web-2-1', 'web-2-2']},
    {kind: 'service udp', probe: {source: 'web-2-2', destination: 'svc/default/dns'}, trace: ['web-2-2', 'svc/default/dns:53', '--protocol', 'udp'], answers: ['web-1-1', 'web-2-1']},
    {
      kind: 'nodeport',
      probe: {source: 'web-1-1', destination: `node/node-2:30080`, attempts: 40},
      trace: ['web-1-1', `${nodeAddr(plan, 'node-2', family)}:30080`, '--protocol', 'tcp'],
      answers: ['web-1-1', 'web-1-2', 'web-2-1', 'web-2-2'],
    },
  ]
}

export function requestFor(pair: Pair, family: Family): ProbeRequest {
  return {...pair.probe, family}
}

/** The probe line a pair must give (lab-harness summarise's shape) when delivered. */
export function deliveredLine(pair: Pair, family: Family, plan: LabPlan): string {
  const proto = pair.probe.protocol ?? (pair.probe.destination.endsWith('dns') ? 'udp' : 'tcp')
  const src = pair.probe.source.startsWith('node/') ? pair.probe.source : `pod/default/${pair.probe.source}`
  void plan
  void family
  return `${src} → ${pair.probe.destination} ${proto}: delivered [${pair.answers.join(',')}]`
}

export function traceOf(snapshot: Snapshot, pair: Pair, family: Family): TraceResult {
  return traceSnapshot(snapshot, {...traceRequest(pair.trace), family})
}

/** "KIND IPvF: probe OUTCOME, trace VERDICT[ CODE], agree|DISAGREE". */
export function agreement(snapshot: Snapshot, pair: Pair, family: Family, observed: ProbeResult): string {
  const trace = traceOf(snapshot, pair, family)
  const verdict = `${trace.verdict}${trace.reason ? ` ${trace.reason.code}` : ''}`
  const agrees = compareWithProbe(trace, observed).agrees
  return `${pair.kind} IPv${family}: probe ${observed.outcome}, trace ${verdict}, ${agrees === true ? 'agree' : 'DISAGREE'}${agrees === true ? '' : whyUnknown(snapshot, trace)}`
}

/** A fault broken for IPv6 only: the pair it breaks, what the IPv6 probe then shows, trace's code and doctor's finding. */
export interface Ipv6FaultCase {
  id: string
  /** The pair kind (from pairs()) the fault breaks. */
  pair: string
  /** The IPv6 probe's outcome and answering pods while broken. */
  broken: string
  code: string
  /** A doctor finding ("severity check node") that must be among the broken lab's findings. */
  finding: string
}

export const IPV6_FAULTS: Ipv6FaultCase[] = [
  {id: 'missing-route', pair: 'cross node tcp', broken: 'timeout []', code: 'route-missing', finding: 'error route-missing node-1'},
  {id: 'ip-forward-off', pair: 'cross node tcp', broken: 'timeout []', code: 'ip-forward-off', finding: 'error ip-forward-off node-1'},
  {id: 'forward-drop', pair: 'cross node tcp', broken: 'timeout []', code: 'forward-drop', finding: 'error forward-policy-drop node-1'},
  {id: 'stale-nat', pair: 'service tcp', broken: 'partial [web-1-1,web-1-2,web-2-1]', code: 'nat-stale-endpoint', finding: 'error nat-stale-endpoint node-1'},
]

function findingKeys(snapshot: Snapshot): string[] {
  return runDoctor(snapshot, CHECKS).findings.map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.name}`}`)
}

/**
 * A per-pair probe with the suite's timeouts: an answer ends the wait at once, so 5 s costs nothing
 * when it is answered; a pair expected to be dropped waits 500 ms (a dropped packet stays dropped).
 */
function probeRequests(list: {pair: Pair; family: Family; dropped?: boolean}[]): ProbeRequest[] {
  return list.map(({pair, family, dropped}) => ({...requestFor(pair, family), ...(dropped && !pair.probe.destination.startsWith('svc/') ? {timeoutMs: 500} : {})}))
}

export interface DualStackSuiteOptions {
  topology: Topology
  ipFamily: Exclude<IpFamilyChoice, 'ipv4'>
  /** Unique per test file (uniqueLabName). */
  tag: string
  /** Break each IPv6 fault (dual-stack suites). */
  faults?: boolean
}

export function dualStackSuite(o: DualStackSuiteOptions): void {
  const name = uniqueLabName(o.tag)
  const families: Family[] = o.ipFamily === 'dual' ? [4, 6] : [6]
  describeLabFaults(`knet lab --ip-family ${o.ipFamily} (${o.topology}, 2 nodes × 2 pods) [root]`, () => {
    let root = ''
    const env: NodeJS.ProcessEnv = {}
    const plan = planLab({name, nodes: 2, podsPerNode: 2, topology: o.topology, ipFamily: o.ipFamily})
    const all = families.flatMap((family) => pairs(plan, family).map((pair) => ({pair, family})))
    const capture = (): Promise<Snapshot> => captureLab(name, root)

    beforeAll(async () => {
      root = tempLabRoot(name)
      env.KNET_LAB_DIR = root
      process.env.KNET_LAB_DIR = root
      const t0 = Date.now()
      const up = await knet(['lab', 'up', '--name', name, '--topology', o.topology, '--ip-family', o.ipFamily], {env})
      process.stderr.write(`lab up ${o.topology} ${o.ipFamily} 2x2 took ${Date.now() - t0} ms (CLI)\n`)
      expect(up.stderr).toContain(`lab ${name} is up (${o.topology}, ${o.ipFamily === 'dual' ? 'dual-stack' : 'IPv6-only'}, 2 nodes × 2 pods)`)
      expect(up.status).toBe(0)
    })

    afterAll(async () => {
      if (!root) return
      const down = await knet(['lab', 'down', '--name', name], {env})
      expect(down.status).toBe(0)
      expect(labNamespaces(name)).toEqual([])
      rmSync(root, {recursive: true, force: true})
    })

    it('every kind of pair is delivered in each family, answered by the right pods', async () => {
      const results = await probeAll(plan, probeRequests(all))
      const lines = summarise(results).map((l, i) => `IPv${all[i]?.family} ${l}`)
      expect(lines).toEqual(all.map(({pair, family}) => `IPv${family} ${deliveredLine(pair, family, plan)}`))
      // Each probe really used its family: the destination address it resolved to.
      expect(results.map((r) => (r.destination.ip.includes(':') ? 6 : 4))).toEqual(all.map((a) => a.family))
    })

    it('probe through the CLI: an IPv6 pod by name, a bracketed [IPv6]:PORT, and a family the lab lacks', async () => {
      const v6 = await knet(['lab', 'probe', '--name', name, 'web-1-1', 'web-2-2', '--ip-family', '6', '--timeout', '5s'], {env})
      expect(v6.stdout).toBe(`pod/default/web-1-1 → pod/default/web-2-2:8080 ([${plan.pods.find((p) => p.name === 'web-2-2')?.ip6}]:8080) tcp: DELIVERED\n  answered by: web-2-2\n`)
      expect(v6.status).toBe(0)
      const literal = await knet(['lab', 'probe', '--name', name, 'web-1-1', `[${plan.services.find((s) => s.name === 'dns')?.clusterIP6}]:53`, '--timeout', '5s', '-o', 'json'], {env})
      expect(JSON.parse(literal.stdout)).toMatchObject({destination: {kind: 'ip', service: {name: 'dns'}}, protocol: 'udp', outcome: 'delivered', answeredBy: ['web-1-1', 'web-2-1']})
      if (!families.includes(4)) {
        const none = await knet(['lab', 'probe', '--name', name, 'web-1-1', 'web-2-2', '--ip-family', '4'], {env})
        expect([none.status, none.stderr]).toEqual([2, `knet: lab ${name} has no IPv4 (its families: IPv6)\n`])
      }
    })

    it('trace agrees with the real packets for every pair in each family; doctor finds nothing', async () => {
      const snapshot = await capture()
      const results = await probeAll(plan, probeRequests(all))
      const rows = all.map(({pair, family}, i) => agreement(snapshot, pair, family, results[i] as ProbeResult))
      expect(rows).toEqual(all.map(({pair, family}) => `${pair.kind} IPv${family}: probe delivered, trace delivered, agree`))
      if (o.topology === 'vxlan') {
        // Decapsulated on node-2 by the VXLAN device of the outer header's family (both devices share VNI and port).
        const cross = (family: Family): Pair => pairs(plan, family).find((p) => p.kind === 'cross node tcp') as Pair
        const decap = families.map((family) => traceOf(snapshot, cross(family), family).hops.find((h) => h.node === 'node-2')?.label)
        expect(decap).toEqual(families.map((family) => `node-2 ${family === 6 ? VXLAN6.device : VXLAN.device}`))
      }
      expect(findingKeys(snapshot)).toEqual([])
    })
    if (o.faults) {
      for (const f of IPV6_FAULTS) {
        it(`${f.id} --ip-family 6: IPv6 ${f.pair} ${f.broken.split(' ')[0]} (${f.code}), doctor names it, IPv4 delivered; heal`, async () => {
          const broke = await knet(['lab', 'break', f.id, '--name', name, '--ip-family', '6', '--json'], {env})
          expect([broke.status, broke.stderr.includes('knet:') ? broke.stderr : '']).toEqual([0, ''])
          expect(JSON.parse(broke.stdout)).toMatchObject({applied: {id: f.id, data: {family: 6}}})
          const pair = pairs(plan, 6).find((p) => p.kind === f.pair) as Pair
          const pair4 = pairs(plan, 4).find((p) => p.kind === f.pair) as Pair
          // Healed whatever fails, so one fault's failure does not become the next one's.
          try {
            const snapshot = await capture()
            const [six, four] = await probeAll(plan, probeRequests([{pair, family: 6, dropped: true}, {pair: pair4, family: 4}]))
            const brokenLine = deliveredLine(pair, 6, plan).replace(/delivered \[.*\]$/, f.broken)
            expect(summarise([six as ProbeResult, four as ProbeResult])).toEqual([brokenLine, deliveredLine(pair4, 4, plan)])
            const trace6 = traceOf(snapshot, pair, 6)
            expect([trace6.verdict, trace6.reason?.code]).toEqual([f.broken.startsWith('partial') ? 'partial' : 'dropped', f.code])
            expect(compareWithProbe(trace6, six as ProbeResult).agrees).toBe(true)
            expect(traceOf(snapshot, pair4, 4).verdict).toBe('delivered')
            expect(findingKeys(snapshot)).toContain(f.finding)
          } finally {
            const healed = await healFaults(name, f.id, {root})
            expect(healed.remaining).toEqual([])
          }
          const [again] = await probeAll(plan, probeRequests([{pair, family: 6}]))
          expect(summarise([again as ProbeResult])).toEqual([deliveredLine(pair, 6, plan)])
        })
      }

      it('break --list names the per-family faults; a fault that is not per family refuses --ip-family', async () => {
        const list = await knet(['lab', 'break', '--list', '--json'], {env})
        const perFamily = (JSON.parse(list.stdout) as {faults: {id: string; families?: number[]}[]}).faults.filter((x) => x.families).map((x) => [x.id, x.families])
        expect(perFamily).toEqual(expect.arrayContaining(IPV6_FAULTS.map((x) => [x.id, [4, 6]])))
        const refused = await breakFault(name, 'bridge-down', {root, family: 6}).catch((e: Error) => e.message)
        expect(refused).toBe('bridge-down is not a per-family fault: it takes no --ip-family')
      })
    }
  }, [...LAB_TOOLS, 'ip6tables-restore'])
}
