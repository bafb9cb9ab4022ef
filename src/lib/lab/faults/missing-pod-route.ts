import {badInput} from '../../report/errors.js'
import {routeArgv} from '../steps.js'
import {nodeOfPod, requirePod, runAll} from './util.js'
import type {Fault} from './types.js'

export const missingPodRoute: Fault = {
  id: 'missing-pod-route',
  emulates:
    "A node lost its /32 route to one of its own pods (routed CNIs: the ptp plugin, kindnet, Calico, AWS VPC CNI): an agent's route sync or a network manager removed it, or the CNI ADD failed half-way. The pod's veth is up and its packets leave, but the node cannot send it anything, so nothing it starts gets an answer either.",
  expect: 'anything ↔ web-2-2: timeout (node-2 sends its traffic to the default route instead); svc/default/web: partial with web-2-2 silent; every other pair delivered.',
  api: 'Linux only: the Pod is Running and Ready in the API.',
  defaults: {node: 'node-2', target: 'web-2-2'},
  targetHelp: 'the pod whose route its node loses (its node is implied)',
  real: {
    does: "as emulated, on the /32 route the ptp plugin wrote through the veth it named (from the state file): the plugin runs only when a pod is added or deleted, and flanneld's host-gw routes lead only to other nodes' pod CIDRs, so nothing puts it back.",
  },
  notFor: {'host-gw': "pods on a bridge are reached by the bridge's connected subnet route, not one route each", vxlan: "pods on a bridge are reached by the bridge's connected subnet route, not one route each"},
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    const route = node.routes.find((r) => r.purpose === 'pod' && r.toPod === pod.name)
    if (!route) throw badInput(`--target: ${node.name} has no route of its own to ${pod.name}`)
    await runAll([routeArgv('del', node.netns, route)])
    return {undo: [routeArgv('replace', node.netns, route)]}
  },
}
