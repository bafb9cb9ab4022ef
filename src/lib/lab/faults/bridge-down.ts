import {oneNode, requireBridge, runAll} from './util.js'
import type {Fault} from './types.js'

export const bridgeDown: Fault = {
  id: 'bridge-down',
  emulates: "The node's pod bridge (cbr0/cni0) is administratively down, e.g. an interface-management tool that does not know it: no pod on the node can reach anything, not even its neighbours.",
  expect: 'pods on node-1 ↔ anything (pods on node-2, each other, Services): timeout; node-2 ↔ node-2 delivered.',
  api: 'Linux only: the Node stays Ready in the API.',
  defaults: {node: 'node-1', target: 'cbr0'},
  targetHelp: "fixed: the node's pod bridge",
  real: {does: 'as emulated, on the bridge plugin\'s cbr0: it is configured only when a pod is added, so nothing brings it up.'},
  notFor: {ptp: 'no pod bridge: each pod has its own routed veth (see veth-detached, which downs one)', 'calico-vxlan': 'no pod bridge: each pod has its own routed cali* veth (see veth-detached, which downs one)', 'aws-vpc': 'no pod bridge: each pod has its own routed eni* veth (see veth-detached, which downs one)'},
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const bridge = requireBridge(node, this.id)
    await runAll([['ip', '-n', node.netns, 'link', 'set', bridge.name, 'down']])
    return {undo: [['ip', '-n', node.netns, 'link', 'set', bridge.name, 'up']]}
  },
}
