import {oneNode, runAll, sysctlRead, sysctlWrite} from './util.js'
import type {Fault} from './types.js'

const KEY = 'net.ipv4.ip_forward'

export const ipForwardOff: Fault = {
  id: 'ip-forward-off',
  emulates: 'IP forwarding is off on a node (a hardening baseline, a sysctl.d file, or a network-manager restart reset net.ipv4.ip_forward to 0): the node stops routing anything that is not its own.',
  expect:
    'pods on node-1 ↔ pods on node-2: timeout; pods on node-1 → any Service: timeout (DNAT needs the node to route); pods on node-1 → same-node pods directly: delivered (bridged, not routed).',
  expectFor: {ptp: 'as above, except that same-node pod-to-pod traffic on node-1 times out too: without a bridge it is routed by the node.'},
  api: 'Linux only.',
  defaults: {node: 'node-1', target: KEY},
  targetHelp: 'fixed: net.ipv4.ip_forward',
  real: {does: 'as emulated: neither kube-proxy nor flanneld sets net.ipv4.ip_forward, so nothing puts it back.'},
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const before = await sysctlRead(node.netns, KEY)
    await runAll([sysctlWrite(node.netns, KEY, '0')])
    return {undo: [sysctlWrite(node.netns, KEY, before)], data: {before}}
  },
}
