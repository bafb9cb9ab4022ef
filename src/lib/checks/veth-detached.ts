import type {Finding} from '../report/finding.js'
import {isPodVeth, linkText, nodeEvidence, podBridges} from './evidence.js'
import {routedVeths} from './routed-pods.js'
import type {Check} from './types.js'

// Routed CNIs plug veths in without a bridge on purpose (calico, cilium, AWS/Azure/GKE, kindnet's ptp),
// recognised by name or, whatever their name, by the node's /32 route to the pod through them. Not
// by `veth` + 8 hex digits: that is how the bridge plugin names the veths it does put on cni0/cbr0
// (kindnet's ptp veths, named alike, are told apart by their /32 routes).
const ROUTED_VETH = /^(cali|lxc|eni|azv|gke)/

export const vethDetached: Check = {
  id: 'veth-detached',
  title: "Pod veths are attached to the node's pod bridge",
  severity: 'error',
  requires: ['node:links', 'node:addrs'],
  remediation: 'ip link set VETH master BRIDGE (or recreate the pod so the CNI plugs it in again); look for a restarted network service or a bridge that was deleted and recreated',
  explanation:
    'On a bridge-based datapath each pod reaches the node through a veth enslaved to the pod bridge (cni0/cbr0). A pod veth with no master is plugged into nothing: the pod is up but cannot send or receive anything.',
  run(ctx) {
    const findings: Finding[] = []
    for (const node of ctx.nodes) {
      const bridges = [...podBridges(node)]
      if (bridges.length === 0) continue
      const routed = new Set(routedVeths(node).map((v) => v.link.ifname))
      for (const l of node.links ?? []) {
        if (l.master || !isPodVeth(node, l) || ROUTED_VETH.test(l.ifname) || routed.has(l.ifname)) continue
        findings.push(
          ctx.finding({
            subject: {kind: 'node', name: node.name},
            node: node.name,
            message: `pod veth ${l.ifname} is not attached to any bridge (pod bridge: ${bridges.join(', ')})`,
            evidence: [nodeEvidence(node, 'links', linkText(l))],
          }),
        )
      }
    }
    return findings
  },
}
