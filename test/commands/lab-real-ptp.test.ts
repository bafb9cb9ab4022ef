/**
 * `knet lab up --kubernetes DIR --topology ptp`: kind's kindnet layout built by the real programs —
 * the CNI ptp plugin with host-local over each Node's spec.podCIDR (KCM's), run by the hollow
 * kubelet through the CNI protocol, and flanneld's host-gw routes between nodes (2 nodes × 2 pods,
 * kube-proxy iptables). One lab: the CNI config and what the plugin wrote on each node; same-node,
 * cross-node, pod → Service and NodePort probes with trace agreeing with each; doctor clean; then
 * missing-pod-route broken (trace's code agreeing with the probes, doctor naming node-2 and the
 * route) and healed. Root only, and only where the real programs are (test/helpers/kubernetes.ts);
 * otherwise skipped with the reason in the title. Self-contained: small helpers are repeated from
 * lab-faults-real.test.ts on purpose (that file is becoming a shared suite).
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../src/lib/checks/context.js'
import {CHECKS} from '../../src/lib/checks/registry.js'
import {breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import type {LabPlan} from '../../src/lib/lab/plan.js'
import {type ProbeRequest} from '../../src/lib/lab/probe.js'
import {labPlanOf, type LabState} from '../../src/lib/lab/state.js'
import type {Snapshot} from '../../src/lib/snapshot/schema.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {kubernetesDir, kubernetesSkipReason} from '../helpers/kubernetes.js'
import {netnsSkipReason} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {downLab, tempLabRoot, probeAll, upLabState} from '../lib/lab/lab-harness.js'
import {captureLab} from '../lib/trace/trace-lab-helpers.js'
import {expectedRows, rows} from '../lib/lab/real-faults-suite.js'

const BIN = kubernetesDir()
const skipReason = netnsSkipReason ?? kubernetesSkipReason()

type Outcome = 'delivered' | 'dropped' | 'partial'

/** One pair: `knet trace` arguments, the probe sending the same packet, and what the probe must see. */
interface Pair {
  trace: string[]
  probe: ProbeRequest
  outcome: Outcome
}

const DROP = 500

function pod(source: string, destination: string, outcome: Outcome, protocol: 'tcp' | 'udp' | 'icmp' = 'tcp'): Pair {
  const trace = [source, destination, ...(protocol === 'tcp' ? [] : ['--protocol', protocol])]
  return {trace, probe: {source, destination, protocol, ...(outcome === 'dropped' ? {timeoutMs: protocol === 'icmp' ? 1000 : DROP} : {})}, outcome}
}

function svc(source: string, service: string, outcome: Outcome, protocol: 'tcp' | 'udp' = 'tcp'): Pair {
  const extra = outcome === 'delivered' ? {} : {attempts: 40, timeoutMs: DROP}
  return {trace: [source, `svc/default/${service}`, ...(protocol === 'udp' ? ['--protocol', 'udp'] : [])], probe: {source, destination: `svc/default/${service}`, protocol, ...extra}, outcome}
}

/** Same node, across nodes (tcp, udp, icmp), pod → Service (tcp, udp), NodePort through the other node. */
function baseline(plan: LabPlan): Pair[] {
  const node2 = plan.nodes.find((n) => n.name === 'node-2')?.underlayIp as string
  return [
    pod('web-1-1', 'web-1-2', 'delivered'),
    pod('web-1-1', 'web-2-1', 'delivered'),
    pod('web-2-2', 'web-1-2', 'delivered', 'udp'),
    pod('web-2-1', 'web-1-1', 'delivered', 'icmp'),
    svc('web-1-2', 'web', 'delivered'),
    svc('web-2-1', 'dns', 'delivered', 'udp'),
    {trace: ['web-1-2', `${node2}:30080`], probe: {source: 'web-1-2', destination: `${node2}:30080`}, outcome: 'delivered'},
  ]
}

interface RouteJson {
  dst?: string
  gateway?: string
  dev?: string
  scope?: string
  prefsrc?: string
}

const ipJson = <T>(netns: string, ...args: string[]): T => JSON.parse(execFileSync('ip', ['-n', netns, '-j', ...args], {encoding: 'utf8'}) || '[]') as T

const title = 'knet lab up --kubernetes --topology ptp (kindnet: the real ptp plugin, 2 nodes, kube-proxy iptables): probes, trace, doctor, missing-pod-route [root]'

if (skipReason) {
  describe.skip(`${title} [skipped: ${skipReason}]`, () => it('runs', () => undefined))
} else {
  describe(title, () => {
    const name = uniqueLabName('rptp')
    const env: NodeJS.ProcessEnv = {KNET_KUBERNETES: BIN}
    let root = ''

    const state = (): Promise<LabState> => upLabState(name, root)
    const plan = async (): Promise<LabPlan> => labPlanOf(await state())
    const problems = (snapshot: Snapshot): string[] =>
      runDoctor(snapshot, CHECKS)
        .findings.filter((f) => f.severity === 'error' || f.severity === 'warn')
        .map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.name}`}: ${f.message}`)

    beforeAll(async () => {
      root = tempLabRoot(name)
      env.KNET_LAB_DIR = root
      process.env.KNET_LAB_DIR = root
      const t0 = Date.now()
      const up = await knet(['lab', 'up', '--name', name, '--kubernetes', BIN as string, '--nodes', '2', '--topology', 'ptp'], {env})
      process.stderr.write(`real lab up (ptp, 2 nodes) took ${Date.now() - t0} ms\n`)
      expect([up.status, up.stderr]).toEqual([0, expect.stringContaining(`lab ${name} is up (ptp, 2 nodes × 2 pods)`)])
    }, 900_000)

    afterAll(async () => {
      await downLab(name, root, env)
    }, 600_000)

    it("each node's CNI network is kindnet's ptp conflist over its spec.podCIDR; the plugin's veths hold the gateway /32 and the node's /32 route to each pod", async () => {
      const s = await state()
      const p = labPlanOf(s)
      // KCM's node IPAM chose them (usually in registration order, not always on a loaded machine).
      expect(new Set(p.nodes.map((n) => n.podCIDR)).size).toBe(2)
      expect(p.nodes.map((n) => n.podCIDR).every((c) => /^10\.244\.\d+\.0\/24$/.test(c))).toBe(true)
      expect(p.nodes.map((n) => n.podCIDR)).toEqual(p.nodes.map((n) => s.realised?.podCIDRs?.[n.name]))
      for (const node of p.nodes) {
        const conf = JSON.parse(readFileSync(join(s.dir, node.name, '10-kindnet.conflist'), 'utf8')) as {name: string; plugins: {type: string; ipam?: {type: string; ranges: {subnet: string}[][]}}[]}
        expect([conf.name, conf.plugins.map((x) => x.type), conf.plugins[0]?.ipam?.type, conf.plugins[0]?.ipam?.ranges]).toEqual(['kindnet', ['ptp', 'portmap'], 'host-local', [[{subnet: node.podCIDR}]]])
        // No bridge; one routed veth per pod, named by the plugin, with the gateway /32 on it.
        const links = ipJson<{ifname: string; linkinfo?: {info_kind?: string}}[]>(node.netns, '-d', 'link', 'show')
        expect(links.filter((l) => l.linkinfo?.info_kind === 'bridge')).toEqual([])
        const routes = ipJson<RouteJson[]>(node.netns, 'route', 'show')
        for (const pd of p.pods.filter((x) => x.node === node.name)) {
          expect(pd.hostVeth).toMatch(/^veth[0-9a-f]{8}$/)
          const addrs = ipJson<{addr_info: {local: string; prefixlen: number}[]}[]>(node.netns, '-4', 'addr', 'show', 'dev', pd.hostVeth)
          expect(addrs[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${node.podGateway}/32`])
          expect(routes.filter((r) => r.dst === pd.ip).map((r) => `${r.dst} dev ${r.dev} scope ${r.scope}`)).toEqual([`${pd.ip} dev ${pd.hostVeth} scope host`])
          const inPod = ipJson<RouteJson[]>(pd.netns, 'route', 'show')
          expect(inPod.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.scope === 'link' ? ' scope link' : ''}`).sort()).toEqual(
            [`default via ${node.podGateway} dev eth0`, `${node.podCIDR} via ${node.podGateway} dev eth0`, `${node.podGateway} dev eth0 scope link`].sort(),
          )
        }
        // flanneld (host-gw) wrote kindnetd's route: the other node's pod CIDR via its IP.
        const other = p.nodes.find((n) => n !== node) as LabPlan['nodes'][number]
        expect(routes.filter((r) => r.dst === other.podCIDR).map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`)).toEqual([`${other.podCIDR} via ${other.underlayIp} dev eth0`])
      }
    })

    it('healthy: same-node, cross-node, pod → Service and NodePort probes delivered, trace agrees with each, doctor finds no error or warning', async () => {
      const p = await plan()
      const pairs = baseline(p)
      const probes = await probeAll(p, pairs.map((x) => x.probe))
      const snapshot = await captureLab(name, root)
      expect(rows(snapshot, pairs, probes)).toEqual(expectedRows(pairs, probes))
      const report = runDoctor(snapshot, CHECKS)
      expect({problems: problems(snapshot), collectionErrors: report.collectionErrors}).toEqual({problems: [], collectionErrors: []})
    }, 600_000)

    it("missing-pod-route: node-2 loses web-2-2's /32; probes time out, trace says route-missing and agrees, doctor names node-2 and the route; heal → baseline delivered", async () => {
      const t0 = Date.now()
      const steps: string[] = []
      const step = (what: string): void => void steps.push(`${what} ${Date.now() - t0} ms`)
      // In-process, as `knet lab break` / `heal` run it: the CLI's start-up costs seconds on a loaded machine.
      const broke = await breakFault(name, 'missing-pod-route', {root})
      expect([broke.applied.node, broke.applied.target]).toEqual(['node-2', 'web-2-2'])
      step('broken')
      try {
        const p = await plan()
        const web22 = p.pods.find((x) => x.name === 'web-2-2') as LabPlan['pods'][number]
        const pairs = [pod('web-1-1', 'web-2-2', 'dropped'), pod('web-2-1', 'web-2-2', 'dropped'), pod('web-2-2', 'web-1-1', 'dropped'), svc('web-1-1', 'web', 'partial'), pod('web-1-1', 'web-2-1', 'delivered')]
        const snapshot = await captureLab(name, root)
        step('captured')
        const probes = await probeAll(p, pairs.map((x) => x.probe))
        step('probed')
        expect(rows(snapshot, pairs, probes)).toEqual(expectedRows(pairs, probes, 'route-missing'))
        expect(probes[3]?.silentEndpoints).toEqual(['web-2-2'])
        const report = runDoctor(snapshot, CHECKS)
        expect(problems(snapshot).map((x) => x.split(':')[0])).toEqual(['error route-missing node-2'])
        const finding = report.findings.find((f) => f.check === 'route-missing')
        expect(finding?.message).toContain(web22.ip)
        // The route the address falls to instead, and the pod's veth, are the evidence.
        expect(finding?.evidence.map((e) => e.text)).toEqual(expect.arrayContaining(['default via 10.100.0.1 dev eth0', expect.stringContaining(web22.hostVeth)]))
        expect(report.collectionErrors).toEqual([])
      } finally {
        const heal = await healFaults(name, 'missing-pod-route', {root})
        expect(heal.remaining).toEqual([])
        step('healed')
      }
      // Healed: every baseline packet is delivered again (trace on a healthy lab is the test above).
      const p = await plan()
      const pairs = baseline(p)
      expect((await probeAll(p, pairs.map((x) => x.probe))).map((o, i) => `${pairs[i]?.trace.join(' ')}: ${o.outcome}`)).toEqual(pairs.map((x) => `${x.trace.join(' ')}: delivered`))
      step('delivered again')
      process.stderr.write(`real ptp lab missing-pod-route: ${steps.join(', ')}\n`)
    }, 600_000)
  })
}
