import {oneNode, runAll, sysctlRead, sysctlWrite} from './util.js'
import type {Fault} from './types.js'

const KEY = 'net.ipv4.ip_forward'
/** IPv6's switch: "all" sets every interface's forwarding at once. */
const KEY6 = 'net.ipv6.conf.all.forwarding'

export const ipForwardOff: Fault = {
  id: 'ip-forward-off',
  emulates: 'IP forwarding is off on a node (a hardening baseline, a sysctl.d file, or a network-manager restart reset net.ipv4.ip_forward to 0): the node stops routing anything that is not its own.',
  expect:
    'pods on node-1 ↔ pods on node-2: timeout; pods on node-1 → any Service: timeout (DNAT needs the node to route); pods on node-1 → same-node pods directly: delivered (bridged, not routed).',
  expectFor: {ptp: 'as above, except that same-node pod-to-pod traffic on node-1 times out too: without a bridge it is routed by the node.', 'aws-vpc': 'as on ptp: same-node pod-to-pod traffic on node-1 times out too (each pod has its own routed eni veth).'},
  api: 'Linux only.',
  defaults: {node: 'node-1', target: KEY},
  targetHelp: 'fixed: net.ipv4.ip_forward (with --ip-family 6: net.ipv6.conf.all.forwarding)',
  families: [4, 6],
  defaults6: {node: 'node-1', target: KEY6},
  expect6: 'on a dual-stack lab (--ip-family 6: net.ipv6.conf.all.forwarding=0 on node-1): the same outcomes over IPv6, while IPv4 stays delivered.',
  real: {does: 'as emulated: neither kube-proxy nor flanneld sets net.ipv4.ip_forward, so nothing puts it back.'},
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const key = ctx.family === 6 ? KEY6 : KEY
    const before = await sysctlRead(node.netns, key)
    await runAll([sysctlWrite(node.netns, key, '0')])
    return {undo: [sysctlWrite(node.netns, key, before)], data: {before}}
  },
}
