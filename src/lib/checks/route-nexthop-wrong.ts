import {podCidrRoutes} from './pod-cidr-routes.js'
import type {Check} from './types.js'
import {ipFamily} from '../net/cidr.js'

export const routeNexthopWrong: Check = {
  id: 'route-nexthop-wrong',
  title: 'Routes to pod CIDRs point at the node that owns them',
  severity: 'error',
  requires: ['cluster:nodes', 'node:routes4', 'node:links'],
  remediation: 'replace the stale route (ip route replace CIDR via NODE_IP) or FDB entry, and restart the CNI agent so it reconciles; a node replaced under the same name with a new IP is the usual cause',
  explanation:
    "A route to another node's pod CIDR must lead to that node: its IP as next hop (host-gw) or as the VXLAN VTEP. A next hop that belongs to another node, or to no node at all, sends the packets somewhere that drops or misdelivers them. A route onto one of the node's own bridges is a CIDR overlap, reported by cidr-overlap instead.",
  run(ctx) {
    const {results, skipped} = podCidrRoutes(ctx.model, ctx.nodes)
    skipped.forEach((s) => ctx.skip(s))
    return results
      .filter((r) => r.status === 'wrong')
      .map((r) => ctx.finding({subject: {kind: 'node', name: r.node.name}, node: r.node.name, ...(ipFamily(r.cidr) === 6 ? {family: 6 as const} : {}), message: r.message, evidence: r.evidence}))
  },
}
