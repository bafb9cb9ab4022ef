import {badInput} from '../../report/errors.js'
import {routeArgv} from '../steps.js'
import {oneNode, requireBridge, requireNode, runAll} from './util.js'
import {withFlannelStopped} from './real.js'
import type {Fault} from './types.js'

export const cidrOverlap: Fault = {
  id: 'cidr-overlap',
  emulates:
    "A node's bridge is configured with a pod CIDR that overlaps another node's (e.g. a stale CNI config or kubelet --pod-cidr left over after the node was re-registered): the node treats the other node's pods as local and ARPs for them on its own bridge.",
  expect: 'pods on node-1 ↔ pods on node-2: timeout in both directions (node-1 delivers 10.244.2.0/24 onto its own cbr0); same-node traffic and node-2 → node-2 delivered.',
  api: "Linux only: the Node objects still show disjoint pod CIDRs; the overlap exists only in node-1's bridge address and routes.",
  defaults: {node: 'node-1', target: 'node-2'},
  targetHelp: "the node whose pod CIDR the --node's bridge also claims",
  real: withFlannelStopped("flanneld on --node hangs (SIGSTOP; host-gw's route check would otherwise put its route back within seconds), then cbr0 gets the other node's range as emulated; heal removes the address, restarts flanneld and waits until its routes are back.", {undoFirst: true}),
  notFor: {ptp: 'it gives the pod bridge a second range; a ptp node has no bridge (its pods are /32 routes)', 'calico-vxlan': 'it gives the pod bridge a second range; a Calico node has no bridge (its pods are /32 routes)', 'aws-vpc': 'it gives the pod bridge a second range; an AWS VPC CNI node has no bridge (its pods are /32 routes)'},
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const other = requireNode(ctx.plan, ctx.target, '--target')
    const bridge = requireBridge(node, this.id)
    const otherBridge = requireBridge(other, this.id)
    if (other.name === node.name) throw badInput('--target must be another node')
    const route = node.routes.find((r) => r.purpose === 'pod-cidr' && r.toNode === other.name)
    if (!route) throw badInput(`--target: ${node.name} has no route to ${other.name}'s pod CIDR`)
    const ns = node.netns
    const address = `${otherBridge.ip}/${otherBridge.prefix}`
    // What the bridge plugin's host-local IPAM would set up had it been given the other range.
    await runAll([
      ['ip', '-n', ns, 'addr', 'add', address, 'dev', bridge.name, 'noprefixroute'],
      ['ip', '-n', ns, 'route', 'replace', other.podCIDR, 'dev', bridge.name, 'proto', 'kernel', 'scope', 'link', 'src', otherBridge.ip],
    ])
    return {undo: [routeArgv('replace', ns, route), ['ip', '-n', ns, 'addr', 'del', address, 'dev', bridge.name]]}
  },
}
