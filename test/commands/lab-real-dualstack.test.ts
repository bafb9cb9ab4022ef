/**
 * `knet lab up --kubernetes DIR --ip-family dual` (issue 16, the lab in real mode): one dual-stack
 * lab run by the real programs (vxlan, kube-proxy iptables, 2 nodes × 2 pods), checked from one
 * lab up:
 *  - the cluster is dual-stack as the real programs made it: each Node has a pod CIDR per family
 *    (KCM) and both InternalIPs, flanneld wrote both subnets and flannel-v6.1, every pod has an
 *    address of each family from the CNI chain, and the EndpointSlice controller wrote one slice per
 *    family for each Service;
 *  - every kind of pair (the emulated dual-stack suite's) is delivered in each family by real
 *    probes, trace agrees with each, and doctor finds nothing;
 *  - missing-route --ip-family 6: the IPv6 probe times out, trace says route-missing and agrees,
 *    doctor names node-1, IPv4 stays delivered; heal (flanneld restarted) delivers IPv6 again.
 * Root only, and only where the real programs are (test/helpers/kubernetes.ts); otherwise skipped
 * with the reason in the title.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../src/lib/checks/context.js'
import {CHECKS} from '../../src/lib/checks/registry.js'
import {breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import type {Family, LabPlan} from '../../src/lib/lab/plan.js'
import type {ProbeResult} from '../../src/lib/lab/probe.js'
import {labApi} from '../../src/lib/lab/real/api.js'
import {labPlanOf, type LabState} from '../../src/lib/lab/state.js'
import type {Snapshot} from '../../src/lib/snapshot/schema.js'
import {compareWithProbe} from '../../src/lib/trace/probe.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {kubernetesDir, kubernetesSkipReason} from '../helpers/kubernetes.js'
import {netnsSkipReason} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {agreement, deliveredLine, pairs, requestFor, traceOf, type Pair} from '../lib/lab/dualstack-suite.js'
import {downLab, probeAll, summarise, tempLabRoot, upLabState} from '../lib/lab/lab-harness.js'
import {captureLab} from '../lib/trace/trace-lab-helpers.js'

const BIN = kubernetesDir()
const skipReason = netnsSkipReason ?? kubernetesSkipReason()
const FAMILIES: Family[] = [4, 6]

interface SliceLike {
  metadata: {name: string; namespace: string; labels?: Record<string, string>}
  addressType: string
  endpoints?: {addresses: string[]}[] | null
}

interface NodeLike {
  metadata: {name: string}
  spec?: {podCIDRs?: string[]}
  status?: {addresses?: {type: string; address: string}[]}
}

/**
 * One real dual-stack lab per flannel backend: vxlan with kube-proxy iptables (ip6tables), host-gw
 * with kube-proxy nftables (the ip6 kube-proxy table).
 */
function realDualSuite(tag: string, topology: 'vxlan' | 'host-gw', proxyMode: 'iptables' | 'nftables'): void {
  const title = `knet lab up --kubernetes --ip-family dual (${topology}, 2 nodes, kube-proxy ${proxyMode}): both families real, probes, trace, doctor, missing-route --ip-family 6 [root]`

  if (skipReason) {
    describe.skip(`${title} [skipped: ${skipReason}]`, () => it('runs', () => undefined))
  } else {
    describe(title, () => {
      const name = uniqueLabName(tag)
      const env: NodeJS.ProcessEnv = {KNET_KUBERNETES: BIN}
      let root = ''

      const state = (): Promise<LabState> => upLabState(name, root)
      const problems = (snapshot: Snapshot): string[] =>
        runDoctor(snapshot, CHECKS)
          .findings.filter((f) => f.severity === 'error' || f.severity === 'warn')
          .map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.name}`}`)
      /** A dropped pair waits 500 ms per attempt (a dropped packet stays dropped); an answer ends the wait at once. */
      const probe = (plan: LabPlan, list: {pair: Pair; family: Family; dropped?: boolean}[]): Promise<ProbeResult[]> =>
        probeAll(plan, list.map(({pair, family, dropped}) => ({...requestFor(pair, family), ...(dropped ? {timeoutMs: 500} : {})})))

      beforeAll(async () => {
        root = tempLabRoot(name)
        env.KNET_LAB_DIR = root
        process.env.KNET_LAB_DIR = root
        const t0 = Date.now()
        const up = await knet(['lab', 'up', '--name', name, '--kubernetes', BIN as string, '--nodes', '2', '--topology', topology, '--proxy-mode', proxyMode, '--ip-family', 'dual'], {env})
        process.stderr.write(`real lab up (${topology}, ${proxyMode}, dual-stack, 2 nodes) took ${Date.now() - t0} ms\n`)
        expect([up.status, up.stderr]).toEqual([0, expect.stringContaining(`lab ${name} is up (${topology}, dual-stack, 2 nodes × 2 pods)`)])
      })

      afterAll(async () => {
        await downLab(name, root, env)
      })

      it('dual-stack by the real programs: pod CIDRs and InternalIPs of both families, flannel-v6.1, pods with both addresses, one EndpointSlice per family from the controller', async () => {
        const s = await state()
        const plan = labPlanOf(s)
        const api = labApi(s.kubeconfig as string)
        const nodes = (await api.list('v1', 'Node')).items as unknown as NodeLike[]
        const byName = new Map(nodes.map((n) => [n.metadata.name, n]))
        for (const node of plan.nodes) {
          const obj = byName.get(node.name)
          // KCM's node IPAM, one range per family; the realised plan follows it.
          expect(obj?.spec?.podCIDRs).toEqual([node.podCIDR, node.v6?.podCIDR])
          expect(node.v6?.podCIDR).toMatch(/^fd00:10:244:[0-9a-f]*:?:\/64$/)
          expect(obj?.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address)).toEqual([node.underlayIp, node.v6?.underlayIp])
          // flanneld's subnet.env for the flannel CNI plugin: both families.
          const env6 = readFileSync(join(s.dir, node.name, 'subnet.env'), 'utf8')
          expect(env6).toContain(`FLANNEL_IPV6_SUBNET=${(node.v6?.podCIDR ?? '').replace('::/64', '::1/64')}`)
          for (const pd of plan.pods.filter((p) => p.node === node.name)) {
            expect(pd.ip6, pd.name).toMatch(new RegExp(`^${(node.v6?.podCIDR ?? '').replace('::/64', '::')}[0-9a-f]+$`))
          }
        }
        const slices = (await api.list('discovery.k8s.io/v1', 'EndpointSlice', 'default')).items as unknown as SliceLike[]
        const perService = plan.services
          .filter((svc) => Object.keys(svc.selector).length > 0)
          .map((svc) => {
            const mine = slices.filter((x) => x.metadata.labels?.['kubernetes.io/service-name'] === svc.name)
            const line = (family: string): string => {
              const sl = mine.filter((x) => x.addressType === family)
              const addrs = sl.flatMap((x) => (x.endpoints ?? []).flatMap((e) => e.addresses)).sort()
              return `${family} ${sl.length} ${sl.map((x) => x.metadata.labels?.['endpointslice.kubernetes.io/managed-by']).join(',')} ${addrs.join(',')}`
            }
            return `${svc.name}: ${line('IPv4')} | ${line('IPv6')}`
          })
        const expected = plan.services
          .filter((svc) => Object.keys(svc.selector).length > 0)
          .map((svc) => {
            const ctl = 'endpointslice-controller.k8s.io'
            return `${svc.name}: IPv4 1 ${ctl} ${svc.endpoints.map((e) => e.ip).sort().join(',')} | IPv6 1 ${ctl} ${svc.endpoints.map((e) => e.ip6).sort().join(',')}`
          })
        expect(perService).toEqual(expected)
      })

      it('healthy: every kind of pair delivered in each family by real probes, trace agrees with each, doctor finds nothing', async () => {
        const plan = labPlanOf(await state())
        const all = FAMILIES.flatMap((family) => pairs(plan, family).map((pair) => ({pair, family})))
        const results = await probe(plan, all)
        expect(summarise(results).map((l, i) => `IPv${all[i]?.family} ${l}`)).toEqual(all.map(({pair, family}) => `IPv${family} ${deliveredLine(pair, family, plan)}`))
        // Each probe really used its family.
        expect(results.map((r) => (r.destination.ip.includes(':') ? 6 : 4))).toEqual(all.map((a) => a.family))
        const snapshot = await captureLab(name, root)
        expect(all.map(({pair, family}, i) => agreement(snapshot, pair, family, results[i] as ProbeResult))).toEqual(
          all.map(({pair, family}) => `${pair.kind} IPv${family}: probe delivered, trace delivered, agree`),
        )
        expect({problems: problems(snapshot), collectionErrors: runDoctor(snapshot, CHECKS).collectionErrors}).toEqual({problems: [], collectionErrors: []})
      })

      it('missing-route --ip-family 6: IPv6 across nodes times out (route-missing, trace agrees, doctor names node-1) while IPv4 stays delivered; heal → IPv6 delivered', async () => {
        const broke = await breakFault(name, 'missing-route', {root, family: 6})
        expect([broke.applied.node, broke.applied.target, broke.applied.data?.family]).toEqual(['node-1', 'node-2', 6])
        const plan = labPlanOf(await state())
        const cross6 = pairs(plan, 6).find((p) => p.kind === 'cross node tcp') as Pair
        const cross4 = pairs(plan, 4).find((p) => p.kind === 'cross node tcp') as Pair
        try {
          const snapshot = await captureLab(name, root)
          const [six, four] = await probe(plan, [{pair: cross6, family: 6, dropped: true}, {pair: cross4, family: 4}])
          expect(summarise([six as ProbeResult, four as ProbeResult])).toEqual([deliveredLine(cross6, 6, plan).replace(/delivered \[.*\]$/, 'timeout []'), deliveredLine(cross4, 4, plan)])
          const trace6 = traceOf(snapshot, cross6, 6)
          expect([trace6.verdict, trace6.reason?.code, compareWithProbe(trace6, six as ProbeResult).agrees]).toEqual(['dropped', 'route-missing', true])
          expect(traceOf(snapshot, cross4, 4).verdict).toBe('delivered')
          expect(problems(snapshot)).toEqual(['error route-missing node-1'])
          const finding = runDoctor(snapshot, CHECKS).findings.find((f) => f.check === 'route-missing')
          expect(finding?.message).toContain(plan.nodes.find((n) => n.name === 'node-2')?.v6?.podCIDR)
        } finally {
          const healed = await healFaults(name, 'missing-route', {root})
          expect(healed.remaining).toEqual([])
        }
        const [again] = await probe(plan, [{pair: cross6, family: 6}])
        expect(summarise([again as ProbeResult])).toEqual([deliveredLine(cross6, 6, plan)])
      })
    })
  }
}

realDualSuite('rds', 'vxlan', 'iptables')
realDualSuite('rdh', 'host-gw', 'nftables')
