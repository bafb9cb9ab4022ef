import {KnetError} from '../../report/errors.js'
import {inNetns, tryRun} from '../exec.js'
import {probeWithPlan} from '../probe.js'
import {hostVethUp, nodeOfPod, requirePod, runAll, withoutPod} from './util.js'
import {startResponder, stopResponder} from './sync.js'
import type {Fault} from './types.js'

/** The client's fixed source port: one UDP conntrack entry, reused by every retry. */
export const STALE_CONNTRACK_PORT = 40053
export const STALE_CONNTRACK_SERVICE = 'svc/default/dns'

export const staleConntrack: Fault = {
  id: 'stale-conntrack',
  emulates:
    "A UDP conntrack entry still points at a removed endpoint: the client's flow was DNATed to a DNS pod that has since been deleted, and because the client keeps retrying from the same source port within the UDP timeout the entry never expires (the classic kube-proxy UDP/DNS blackhole when stale entries are not flushed).",
  expect:
    `target (default web-1-2) → svc/default/dns from source port ${STALE_CONNTRACK_PORT}: timeout (the stale entry still DNATs to the removed endpoint); from a new source port: delivered by the remaining endpoint; everything else delivered. The entry lives while retries keep coming (the 30 s UDP timeout is renewed by each).`,
  api: 'API: the endpoint pod the entry points at (whichever dns endpoint DNAT picked) is deleted and removed from its EndpointSlices; kube-proxy rules on every node are rewritten without it, but its conntrack entry is not flushed.',
  defaults: {node: 'node-1', target: 'web-1-2'},
  targetHelp: "the client pod whose flow is stuck (its node holds the entry)",
  real: {
    does: 'refused',
    refused: "kube-proxy deletes a removed UDP endpoint's conntrack entries itself when it syncs; stopping it leaves every rule stale too (that is stale-nat)",
  },
  async break(ctx) {
    const client = requirePod(ctx.plan, ctx.target)
    const first = await probeWithPlan(ctx.plan, {source: client.name, destination: STALE_CONNTRACK_SERVICE, attempts: 1, sourcePort: STALE_CONNTRACK_PORT})
    const endpointName = first.answeredBy[0]
    if (first.outcome !== 'delivered' || endpointName === undefined) {
      throw new KnetError('command-failed', `stale-conntrack: ${client.name} → ${STALE_CONNTRACK_SERVICE} was ${first.outcome} before the fault; heal the other faults first`)
    }
    const endpoint = requirePod(ctx.plan, endpointName)
    const home = nodeOfPod(ctx.plan, endpoint)
    await stopResponder(ctx.plan, ctx.store, endpoint)
    await runAll([['ip', '-n', home.netns, 'link', 'set', endpoint.hostVeth, 'down']])
    return {undo: hostVethUp(home, endpoint), data: {endpoint: endpoint.name, client: client.name, sourcePort: STALE_CONNTRACK_PORT}}
  },
  async heal(ctx, applied) {
    const client = requirePod(ctx.plan, String(applied.data?.client ?? applied.target))
    const node = nodeOfPod(ctx.plan, client)
    // What kube-proxy does when an endpoint goes away: flush that flow's UDP conntrack entries.
    await tryRun(inNetns(node.netns, ['conntrack', '-D', '-p', 'udp', '--orig-src', client.ip, '--sport', String(applied.data?.sourcePort ?? STALE_CONNTRACK_PORT)]))
    await runAll(applied.undo)
    await startResponder(ctx.plan, ctx.store, requirePod(ctx.plan, String(applied.data?.endpoint)))
  },
  objects(objects, applied) {
    return withoutPod(objects, String(applied.data?.endpoint))
  },
  kubeProxy(model, _node, applied, plan) {
    const gone = plan.pods.find((p) => p.name === applied.data?.endpoint)
    if (!gone) return model
    return {...model, services: model.services.map((s) => ({...s, endpoints: s.endpoints.filter((e) => e.ip !== gone.ip && e.ip !== gone.ip6)}))}
  },
}
