import {badInput} from '../../report/errors.js'
import type {RoutePlan} from '../plan.js'
import {routeArgv} from '../steps.js'
import {oneNode, requireNode, runAll} from './util.js'
import {withFlannelStopped} from './real.js'
import type {Fault} from './types.js'

/** The replaced node's old underlay address: on the segment, but nobody answers ARP for it. */
export function oldUnderlayIp(index: number): string {
  return `10.100.0.${200 + index}`
}

export const staleRoute: Fault = {
  id: 'stale-route',
  emulates:
    "A node was replaced (new VM, new IP) but another node still sends its pod traffic to the old IP: host-gw's route (or, with VXLAN, the VTEP's fdb entry) was never updated, as when the CNI agent missed the Node update.",
  expect: "pods on node-1 → pods on node-2 (and replies from node-2's pods to node-1's): timeout (ARP for the old IP 10.100.0.202 goes unanswered); same-node traffic delivered.",
  api: "Linux only: the Node object shows the new InternalIP (and, for VXLAN, flannel's public-ip annotation), the node's routing does not.",
  defaults: {node: 'node-1', target: 'node-2'},
  targetHelp: 'the replaced node whose old IP the route (VXLAN: fdb entry) still points at',
  notFor: {'aws-vpc': "no route to another node's pods: the VPC delivers them, wherever their node is"},
  real: withFlannelStopped("flanneld on --node hangs (SIGSTOP: it misses the Node update) and the route (VXLAN: the VTEP's FDB entry) is pointed at the old IP under it; heal restarts flanneld and waits until it has reprogrammed the route (FDB entry) from the Node objects."),
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const to = requireNode(ctx.plan, ctx.target, '--target')
    const old = oldUnderlayIp(to.index)
    const ns = node.netns
    if (node.vxlan) {
      const fdb = node.fdb.find((f) => f.toNode === to.name)
      if (!fdb) throw badInput(`--target: ${node.name} has no fdb entry for ${to.name}`)
      await runAll([
        ['bridge', '-n', ns, 'fdb', 'del', fdb.mac, 'dev', fdb.dev, 'dst', fdb.dst],
        ['bridge', '-n', ns, 'fdb', 'append', fdb.mac, 'dev', fdb.dev, 'dst', old],
      ])
      return {
        undo: [
          ['bridge', '-n', ns, 'fdb', 'del', fdb.mac, 'dev', fdb.dev, 'dst', old],
          ['bridge', '-n', ns, 'fdb', 'append', fdb.mac, 'dev', fdb.dev, 'dst', fdb.dst],
        ],
      }
    }
    const route = node.routes.find((r) => r.purpose === 'pod-cidr' && r.toNode === to.name)
    if (!route) throw badInput(`--target: ${node.name} has no route to ${to.name}'s pod CIDR`)
    const stale: RoutePlan = {...route, via: old}
    await runAll([routeArgv('replace', ns, stale)])
    return {undo: [routeArgv('replace', ns, route)]}
  },
}
