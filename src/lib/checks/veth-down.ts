import {ownPodRoutes} from './own-pod-routes.js'
import type {Check} from './types.js'

export const vethDown: Check = {
  id: 'veth-down',
  title: "Pods' routed host veths are up",
  severity: 'error',
  requires: ['cluster:pods', 'node:links', 'node:routes4'],
  remediation: 'ip link set VETH up and put back the route to the pod (or recreate the pod so the CNI plugs it in again); look for a network manager or agent that manages interfaces it does not own',
  explanation:
    "Where pods sit on routed veths with no bridge (kindnet/ptp, Calico, AWS VPC CNI), a pod reaches the node only through its host-side veth. One that is administratively down carries nothing, and the kernel usually drops the node's route to the pod with it: the pod is Running and Ready in the API but can send and receive nothing. The veth is named as trace names it (the route, the CNI's cached result, the neighbour entry, or the only unrouted veth left); a down veth whose pod the API no longer lists is leftover, not reported.",
  run(ctx) {
    const {results, skipped} = ownPodRoutes(ctx.model, ctx.nodes)
    skipped.forEach((s) => ctx.skip(s))
    return results
      .filter((r) => r.status === 'veth-down')
      .map((r) => ctx.finding({subject: {kind: 'pod', namespace: r.pod.namespace, name: r.pod.name}, node: r.node.name, message: r.message, evidence: r.evidence}))
  },
}
