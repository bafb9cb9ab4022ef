import {oneNode, runAll, sysctlRead, sysctlWrite} from './util.js'
import type {Fault} from './types.js'

const KEY = 'net.bridge.bridge-nf-call-iptables'

export const bridgeNfOff: Fault = {
  id: 'bridge-nf-off',
  emulates:
    "br_netfilter's bridge-nf-call-iptables is 0 on a node (module not loaded, or the sysctl reset): a reply from a Service endpoint to a client on the same bridge is switched directly, never un-DNATed, and the client drops it.",
  expect:
    'web-1-2 → svc/default/dns: partial, web-1-1 (the same-node endpoint) never answers while web-2-1 does; direct pod-to-pod traffic and node-2 clients delivered.',
  api: 'Linux only.',
  defaults: {node: 'node-1', target: KEY},
  targetHelp: 'fixed: net.bridge.bridge-nf-call-iptables',
  real: {does: 'as emulated: kube-proxy only warns about bridge-nf-call-iptables, so nothing puts it back.'},
  notFor: {ptp: 'no bridge: every pod-to-pod packet is routed and always passes netfilter', 'calico-vxlan': 'no bridge: every pod-to-pod packet is routed and always passes netfilter', 'aws-vpc': 'no bridge: every pod-to-pod packet is routed and always passes netfilter'},
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const before = await sysctlRead(node.netns, KEY)
    await runAll([sysctlWrite(node.netns, KEY, '0')])
    return {undo: [sysctlWrite(node.netns, KEY, before)], data: {before}}
  },
}
