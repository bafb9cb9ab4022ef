import {nodeOfPod, requirePod, runAll} from './util.js'
import type {Fault} from './types.js'

export const vethDetached: Fault = {
  id: 'veth-detached',
  emulates:
    "A pod's host-side veth is no longer a port of the node's bridge (the bridge was deleted and recreated by a CNI or Docker restart, or an agent cleaned it up): the pod has its IP and routes but no path out.",
  expect: 'anything ↔ web-2-2: timeout; svc/default/web: partial with web-2-2 silent; every other pair delivered.',
  api: 'Linux only: the Pod is still Running and Ready in the API.',
  defaults: {node: 'node-2', target: 'web-2-2'},
  targetHelp: 'the pod whose veth is detached (its node is implied)',
  async break(ctx) {
    const pod = requirePod(ctx.plan, ctx.target)
    const node = nodeOfPod(ctx.plan, pod)
    const ns = node.netns
    await runAll([['ip', '-n', ns, 'link', 'set', pod.hostVeth, 'nomaster']])
    return {
      undo: [
        ['ip', '-n', ns, 'link', 'set', pod.hostVeth, 'master', node.bridge.name],
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
