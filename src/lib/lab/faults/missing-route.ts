import {badInput} from '../../report/errors.js'
import {routeArgv} from '../steps.js'
import {oneNode, requireNode, runAll} from './util.js'
import {withFlannelStopped} from './real.js'
import type {Fault} from './types.js'

export const missingRoute: Fault = {
  id: 'missing-route',
  emulates:
    "A node lost its route to another node's pod CIDR: the CNI (flannel host-gw/vxlan) or a cloud route controller did not (re)install it, e.g. after an agent restart or a full VPC route table.",
  expect: 'pods on node-1 ↔ pods on node-2 (tcp, udp, icmp): timeout in both directions (replies need the route too); same-node traffic delivered.',
  api: 'Linux only: the Node objects still show both pod CIDRs (nothing in the API notices).',
  defaults: {node: 'node-1', target: 'node-2'},
  targetHelp: 'the node whose pod CIDR the route leads to',
  real: withFlannelStopped("flanneld on --node hangs (SIGSTOP) and the route is deleted under it (flanneld would re-add it at once); heal restarts flanneld and waits until it has put the route back."),
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const to = requireNode(ctx.plan, ctx.target, '--target')
    const route = node.routes.find((r) => r.purpose === 'pod-cidr' && r.toNode === to.name)
    if (!route) throw badInput(`--target: ${node.name} has no route to ${to.name}'s pod CIDR`)
    await runAll([routeArgv('del', node.netns, route)])
    return {undo: [routeArgv('replace', node.netns, route)]}
  },
}
