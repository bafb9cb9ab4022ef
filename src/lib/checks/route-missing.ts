import {ownPodRoutes} from './own-pod-routes.js'
import {podCidrRoutes} from './pod-cidr-routes.js'
import type {Check} from './types.js'
import {ipFamily} from '../net/cidr.js'

export const routeMissing: Check = {
  id: 'route-missing',
  title: "Every node routes to every other node's pod ranges, and to each of its own pods on a routed veth",
  severity: 'error',
  requires: ['cluster:nodes', 'node:routes4'],
  remediation: "restart the CNI agent on the node (flanneld, calico-node, kindnet, kube-router…) so it re-adds the route, neighbour and FDB entries (a pod's own missing route also comes back when the pod is recreated); for kubenet/host-gw check the cloud route table or the node's static routes",
  explanation:
    "Pods on one node reach pods on another through a route to that node's pod CIDR (host-gw, kubenet) or, with a VXLAN overlay, a route plus neighbour and FDB entries naming the remote VTEP. Without them, cross-node pod traffic is dropped or sent to the default gateway. A pod CIDR that the node delivers onto one of its own bridges (the bridge has an address or route inside it) is a CIDR overlap: cidr-overlap reports it, not this check. Where pods sit on routed veths with no bridge (kindnet/ptp, Calico, AWS VPC CNI), the node also needs one route per pod of its own, to that pod's veth: without it the pod's traffic goes out fine, but nothing comes back (the node sends it to the default route or the block's blackhole). A pod whose veth is down is veth-down's.",
  run(ctx) {
    const {results, skipped} = podCidrRoutes(ctx.model, ctx.nodes)
    skipped.forEach((s) => ctx.skip(s))
    const own = ownPodRoutes(ctx.model, ctx.nodes)
    own.skipped.forEach((s) => ctx.skip(s))
    return [
      ...results
        .filter((r) => r.status === 'missing')
        .map((r) => ctx.finding({subject: {kind: 'node', name: r.node.name}, node: r.node.name, ...(ipFamily(r.cidr) === 6 ? {family: 6 as const} : {}), message: r.message, evidence: r.evidence})),
      ...own.results
        .filter((r) => r.status === 'route-missing')
        .map((r) => ctx.finding({subject: {kind: 'pod', namespace: r.pod.namespace, name: r.pod.name}, node: r.node.name, message: r.message, evidence: r.evidence})),
    ]
  },
}
