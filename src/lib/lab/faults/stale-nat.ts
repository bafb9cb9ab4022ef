import {nodeOfPod, requirePod, runAll, withoutPod} from './util.js'
import {startResponder, stopResponder} from './sync.js'
import type {Fault} from './types.js'

export const staleNat: Fault = {
  id: 'stale-nat',
  emulates:
    "An endpoint pod was deleted but kube-proxy never removed its rules (kube-proxy down, stuck or partitioned from the API): every node still DNATs a share of the Service's connections to an IP where nothing lives.",
  expect:
    'pods → svc/default/web: partial, web-2-2 never answers (the stale KUBE-SEP DNAT sends a share to it and those time out); pods → web-2-2 directly: timeout; every other pod delivered.',
  api: 'API: the Pod web-2-2 is deleted and its address removed from the web and web-np EndpointSlices; the nodes\' nat rules are left as they were.',
  defaults: {node: 'all', target: 'web-2-2'},
  targetHelp: 'the endpoint pod that is deleted',
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    await stopResponder(ctx.plan, ctx.store, pod)
    // The pod's network is gone with it: its host-side veth stops carrying anything.
    await runAll([['ip', '-n', node.netns, 'link', 'set', pod.hostVeth, 'down']])
    return {undo: [['ip', '-n', node.netns, 'link', 'set', pod.hostVeth, 'up']], data: {pod: pod.name}}
  },
  async heal(ctx, applied) {
    await runAll(applied.undo)
    await startResponder(ctx.plan, ctx.store, requirePod(ctx.plan, applied.target))
  },
  objects(objects, applied) {
    return withoutPod(objects, String(applied.data?.pod ?? applied.target))
  },
}
