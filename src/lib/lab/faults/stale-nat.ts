import {KnetError, badInput} from '../../report/errors.js'
import {endpointSlicesMissing, proxyRulesMissing} from '../real/readiness.js'
import {deletePod, nodesDnatingTo, recreatePod, signalComponent, waitUntil} from './real.js'
import {hostVethUp, nodeOfPod, requirePod, runAll, withoutPod} from './util.js'
import {startResponder, stopResponder} from './sync.js'
import type {Fault} from './types.js'

export const staleNat: Fault = {
  id: 'stale-nat',
  emulates:
    "An endpoint pod was deleted but kube-proxy never removed its rules (kube-proxy down, stuck or partitioned from the API): every node still DNATs a share of the Service's connections to an IP where nothing lives.",
  expect:
    'pods → svc/default/web: partial, web-2-2 never answers (the stale KUBE-SEP DNAT sends a share to it and those time out); pods → web-2-2 directly: timeout; every other pod delivered.',
  expectFor: {'aws-vpc': "the same outcomes; the deleted pod's address is then one of the VPC subnet's that no node holds (any instance's), so trace says unknown for it directly, and nat-stale-endpoint for the Service."},
  api: 'API: the Pod web-2-2 is deleted and its address removed from the web and web-np EndpointSlices; the nodes\' nat rules are left as they were.',
  defaults: {node: 'all', target: 'web-2-2'},
  targetHelp: 'the endpoint pod that is deleted',
  families: [4, 6],
  expect6:
    "on a dual-stack lab (--ip-family 6): web-2-2 loses its IPv6 address while kube-proxy's IPv6 rules still DNAT to it: pods → svc/default/web over IPv6: partial, web-2-2 never answers; over IPv4: delivered by every endpoint, web-2-2 included.",
  real: {
    refused6:
      "its real mode deletes the Pod through the API, which takes both of its addresses; a Pod losing only its IPv6 address is nothing a real kubelet and CNI do.",
    does:
      "kube-proxy hangs (SIGSTOP) on every node, then the Pod is deleted through the API: the hollow kubelet runs CNI DEL, the real EndpointSlice controller drops its address, and the nodes' rules stay as they were. Heal: SIGCONT, wait until kube-proxy has resynced (no rule DNATs to the old address), then the Pod is created again through the API (host-local gives it a new address, which the state file records) and served by every node's rules.",
    async break(ctx) {
      const pod = requirePod(ctx.plan, ctx.target)
      await signalComponent(ctx.store, ctx.plan.marker, 'kube-proxy', undefined, 'SIGSTOP')
      try {
        await deletePod(ctx.real, ctx.store, pod)
        // The controller's work is part of the fault: the API no longer lists the address.
        const others = {...ctx.plan, services: ctx.plan.services.map((s) => ({...s, endpoints: s.endpoints.filter((e) => e.pod !== pod.name)}))}
        await waitUntil('the EndpointSlice controller to drop the deleted pod', async () => {
          const {items} = await ctx.real.api.list('discovery.k8s.io/v1', 'EndpointSlice', pod.namespace)
          const listed = items.some((s) => ((s as {endpoints?: {addresses?: string[]}[]}).endpoints ?? []).some((e) => e.addresses?.includes(pod.ip)))
          return [...(listed ? [`an EndpointSlice still lists ${pod.ip}`] : []), ...(await endpointSlicesMissing(ctx.real.api, others))]
        })
      } catch (error) {
        await signalComponent(ctx.store, ctx.plan.marker, 'kube-proxy', undefined, 'SIGCONT')
        throw error
      }
      return {undo: [], data: {pod: pod.name, ip: pod.ip}}
    },
    async heal(ctx, applied) {
      const pod = requirePod(ctx.plan, String(applied.data?.pod ?? applied.target))
      const ip = String(applied.data?.ip ?? pod.ip)
      await signalComponent(ctx.store, ctx.plan.marker, 'kube-proxy', undefined, 'SIGCONT')
      await waitUntil(`kube-proxy to drop its rules for ${ip}`, async () => (await nodesDnatingTo(ctx.real, ctx.plan.nodes, ip)).map((n) => `kube-proxy on ${n} still DNATs to ${ip}`))
      const plan = await recreatePod(ctx.real, ctx.store, pod)
      await waitUntil(`${pod.name} back in the EndpointSlices and every node's rules`, async () => [...(await endpointSlicesMissing(ctx.real.api, plan)), ...(await proxyRulesMissing(plan, ctx.real.proxyMode))])
      if (!plan.pods.some((p) => p.name === pod.name)) throw new KnetError('command-failed', `${pod.name} is not in the realised plan`)
    },
  },
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    if (ctx.family === 6) {
      // A stale IPv6 endpoint: the pod's IPv6 address is withdrawn (the API lists only its IPv4 one)
      // while the IPv6 proxier — dual-stack kube-proxy runs one per family — keeps DNATing to it.
      const ip6 = pod.ip6
      const gateway = node.v6?.podGateway
      if (!ip6 || !gateway) throw badInput(`${this.id} --ip-family 6: pod ${pod.name} has no IPv6 address`)
      await runAll([['ip', '-n', pod.netns, 'addr', 'del', `${ip6}/64`, 'dev', 'eth0']])
      return {undo: [['ip', '-n', pod.netns, 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad'], ['ip', '-n', pod.netns, 'route', 'replace', 'default', 'via', gateway, 'dev', 'eth0']], data: {pod: pod.name}}
    }
    await stopResponder(ctx.plan, ctx.store, pod)
    // The pod's network is gone with it: its host-side veth stops carrying anything.
    await runAll([['ip', '-n', node.netns, 'link', 'set', pod.hostVeth, 'down']])
    return {undo: hostVethUp(node, pod), data: {pod: pod.name}}
  },
  async heal(ctx, applied) {
    await runAll(applied.undo)
    if (applied.data?.family !== 6) await startResponder(ctx.plan, ctx.store, requirePod(ctx.plan, applied.target))
  },
  objects(objects, applied, plan) {
    const name = String(applied.data?.pod ?? applied.target)
    if (applied.data?.family !== 6) return withoutPod(objects, name)
    const ip6 = plan.pods.find((p) => p.name === name)?.ip6
    return objects.map((o) => {
      if (o.kind === 'Pod' && (o.metadata as {name?: string}).name === name) {
        const status = o.status as {podIP?: string; podIPs?: {ip: string}[]}
        const podIPs = (status.podIPs ?? []).filter((p) => p.ip !== ip6)
        return {...o, status: {...status, podIPs, podIP: podIPs[0]?.ip}}
      }
      if (o.kind === 'EndpointSlice' && o.addressType === 'IPv6') {
        return {...o, endpoints: (o.endpoints as {targetRef?: {name?: string}}[]).filter((e) => e.targetRef?.name !== name)}
      }
      return o
    })
  },
}
