import {run} from '../exec.js'
import {iptables, oneNode, runAll} from './util.js'
import type {Fault} from './types.js'

export const forwardDrop: Fault = {
  id: 'forward-drop',
  emulates:
    "The filter FORWARD policy is DROP, as Docker sets it when it starts on a Kubernetes node: new forwarded connections are dropped; only kube-proxy's marked and ESTABLISHED traffic would pass.",
  expect:
    'pods on node-1 ↔ pods on node-2, node-1 pods ↔ each other (bridged traffic passes FORWARD with bridge-nf-call-iptables=1) and node-1 pods → Services: timeout; node-2 ↔ node-2 delivered.',
  api: 'Linux only.',
  defaults: {node: 'node-1', target: 'FORWARD'},
  targetHelp: 'fixed: the filter FORWARD chain',
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const listed = (await run(iptables(node, '-S', 'FORWARD'))).stdout
    const before = /^-P FORWARD (\S+)/m.exec(listed)?.[1] ?? 'ACCEPT'
    await runAll([iptables(node, '-P', 'FORWARD', 'DROP')])
    return {undo: [iptables(node, '-P', 'FORWARD', before)], data: {before}}
  },
}
