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
  notFor: {'aws-vpc': "no route to another node's pods: they are addresses of the VPC subnet, which the VPC delivers (see missing-pod-rule and missing-pod-route)"},
  families: [4, 6],
  expect6: "on a dual-stack lab: the same outcomes over IPv6 (node-1's route to node-2's IPv6 pod /64 is gone), while IPv4 stays delivered.",
  real: withFlannelStopped("flanneld on --node hangs (SIGSTOP) and the route is deleted under it (flanneld would re-add it at once); heal restarts flanneld and waits until it has put the route back."),
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const to = requireNode(ctx.plan, ctx.target, '--target')
    const route = node.routes.find((r) => r.purpose === 'pod-cidr' && r.toNode === to.name && (r.family ?? 4) === ctx.family)
    if (!route) throw badInput(`--target: ${node.name} has no IPv${ctx.family} route to ${to.name}'s pod CIDR`)
    await runAll([routeArgv('del', node.netns, route)])
    return {undo: [routeArgv('replace', node.netns, route)]}
  },
}
