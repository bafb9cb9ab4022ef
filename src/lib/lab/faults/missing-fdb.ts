import {badInput} from '../../report/errors.js'
import {oneNode, requireNode, runAll} from './util.js'
import {withFlannelStopped} from './real.js'
import type {Fault} from './types.js'

export const missingFdb: Fault = {
  id: 'missing-fdb',
  emulates:
    "A node lost the FDB entry of another node's VTEP on its VXLAN device (vxlan.calico, flannel.1): the route and the permanent neighbour entry are still there, but nothing says which underlay address the remote VTEP's MAC lives at — as after a Felix or flanneld restart that raced a node update, or someone flushing the device's FDB.",
  expect: 'pods on node-1 ↔ pods on node-2: timeout in both directions (replies need the entry too); same-node traffic delivered.',
  api: "Linux only: the Node objects still show the VTEP (Calico's IPv4VXLANTunnelAddr, flannel's backend-data annotation).",
  defaults: {node: 'node-1', target: 'node-2'},
  targetHelp: "the node whose VTEP's FDB entry is lost",
  real: withFlannelStopped("flanneld on --node hangs (SIGSTOP) and the FDB entry is deleted under it; heal restarts flanneld and waits until it has reprogrammed the entry from the Node objects."),
  notFor: {'host-gw': 'no VXLAN device: pod traffic is routed over the underlay', ptp: 'no VXLAN device: pod traffic is routed over the underlay', 'aws-vpc': 'no VXLAN device: pods are VPC addresses, routed by the VPC'},
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const to = requireNode(ctx.plan, ctx.target, '--target')
    const fdb = node.fdb.find((f) => f.toNode === to.name)
    if (!fdb) throw badInput(`--target: ${node.name} has no FDB entry for ${to.name}`)
    await runAll([['bridge', '-n', node.netns, 'fdb', 'del', fdb.mac, 'dev', fdb.dev, 'dst', fdb.dst]])
    return {undo: [['bridge', '-n', node.netns, 'fdb', 'append', fdb.mac, 'dev', fdb.dev, 'dst', fdb.dst]]}
  },
}
