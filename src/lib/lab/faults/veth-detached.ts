import {hostVethUp, nodeOfPod, requirePod, runAll} from './util.js'
import type {Fault} from './types.js'

export const vethDetached: Fault = {
  id: 'veth-detached',
  emulates:
    "A pod's host-side veth is no longer a port of the node's bridge (the bridge was deleted and recreated by a CNI or Docker restart, or an agent cleaned it up): the pod has its IP and routes but no path out. On ptp, where no veth is on a bridge, the same pod is cut off by its host-side veth going down (an agent or network manager that does not know it), which also takes the node's /32 route to the pod with it.",
  expect: 'anything ↔ web-2-2: timeout; svc/default/web: partial with web-2-2 silent; every other pair delivered.',
  expectFor: {ptp: 'the same outcomes; trace names the down veth (link-down).', 'aws-vpc': "the same outcomes; the kernel drops the pod's scope-link /32 with its down eni veth (its address then follows node-2's connected VPC subnet route out of eth0); trace names the down veth (link-down)."},
  api: 'Linux only: the Pod is still Running and Ready in the API.',
  defaults: {node: 'node-2', target: 'web-2-2'},
  targetHelp: 'the pod whose veth is detached (its node is implied)',
  real: {does: 'as emulated, on the veth the bridge (or ptp) plugin named (from the state file): the CNI plugin runs only when a pod is added or deleted, so nothing re-attaches it or brings it up.'},
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    const ns = node.netns
    const bridge = node.bridge
    if (!bridge) {
      await runAll([['ip', '-n', ns, 'link', 'set', pod.hostVeth, 'down']])
      return {undo: [...hostVethUp(node, pod), ['ip', '-n', pod.netns, 'neigh', 'flush', 'dev', 'eth0']]}
    }
    await runAll([['ip', '-n', ns, 'link', 'set', pod.hostVeth, 'nomaster']])
    return {
      undo: [
        ['ip', '-n', ns, 'link', 'set', pod.hostVeth, 'master', bridge.name],
        ['ip', '-n', ns, 'link', 'set', pod.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on'],
        ['ip', '-n', ns, 'link', 'set', pod.hostVeth, 'up'],
        // While detached, the node answered the pod's ARP for its gateway with the bare veth's MAC
        // (arp_ignore 0); forget that, and what the node learnt on the veth, so nothing stale is left.
        ['ip', '-n', pod.netns, 'neigh', 'flush', 'dev', 'eth0'],
        ['ip', '-n', ns, 'neigh', 'flush', 'dev', pod.hostVeth],
      ],
    }
  },
}
