import {podCidrRoutes} from './pod-cidr-routes.js'
import type {Check} from './types.js'

export const routeMissing: Check = {
  id: 'route-missing',
  title: "Every node routes to every other node's pod CIDR",
  severity: 'error',
  requires: ['cluster:nodes', 'node:routes4'],
  remediation: "restart the CNI agent on the node (flanneld, kube-router…) so it re-adds the route, neighbour and FDB entries; for kubenet/host-gw check the cloud route table or the node's static routes",
  explanation:
    "Pods on one node reach pods on another through a route to that node's pod CIDR (host-gw, kubenet) or, with a VXLAN overlay, a route plus neighbour and FDB entries naming the remote VTEP. Without them, cross-node pod traffic is dropped or sent to the default gateway. A pod CIDR that the node delivers onto one of its own bridges (the bridge has an address or route inside it) is a CIDR overlap: cidr-overlap reports it, not this check.",
  run(ctx) {
    const {results, skipped} = podCidrRoutes(ctx.model, ctx.nodes)
    skipped.forEach((s) => ctx.skip(s))
    return results
      .filter((r) => r.status === 'missing')
      .map((r) => ctx.finding({subject: {kind: 'node', name: r.node.name}, node: r.node.name, message: r.message, evidence: r.evidence}))
  },
}
