import {UNDERLAY_MTU, VXLAN_OVERHEAD} from '../plan.js'
import {runAll} from './util.js'
import type {Fault} from './types.js'

/** What the underlay path carries after the change (every router port). */
export const SHRUNK_UNDERLAY_MTU = 1400

const ICMP_HEADERS = 28

export const mtuMismatch: Fault = {
  id: 'mtu-mismatch',
  emulates:
    "The pod network's MTU is bigger than the underlay path carries: flannel sized the overlay for a 1500-byte NIC (1450 with VXLAN, 1500 with host-gw) but the path between nodes only carries 1400 (a VPN, GCE-style 1460 or a tunnel in between). Oversized frames are dropped silently, so small packets pass and big ones die — the classic \"ping works, TLS hangs\".",
  expect: `every underlay router port is set to ${SHRUNK_UNDERLAY_MTU}; pod → pod on another node with ICMP don't-fragment: vxlan ${SHRUNK_UNDERLAY_MTU - VXLAN_OVERHEAD - ICMP_HEADERS} payload bytes delivered, ${UNDERLAY_MTU - VXLAN_OVERHEAD - ICMP_HEADERS} timeout; host-gw ${SHRUNK_UNDERLAY_MTU - ICMP_HEADERS} delivered, ${UNDERLAY_MTU - ICMP_HEADERS} timeout (no ICMP "fragmentation needed" comes back: a black hole); same-node traffic of any size and small cross-node TCP delivered.`,
  api: 'Linux only.',
  defaults: {node: 'all', target: 'underlay'},
  targetHelp: 'fixed: the underlay path between the nodes (the router ports)',
  async break(ctx) {
    const rt = ctx.plan.router.netns
    const mtu = (dev: string, value: number): string[] => ['ip', '-n', rt, 'link', 'set', dev, 'mtu', String(value)]
    // The kernel refuses a VXLAN device an MTU its lower device cannot carry, so the lab shrinks
    // the path under the nodes instead: the same mismatch seen from the other side.
    await runAll(ctx.plan.nodes.map((n) => mtu(n.routerPort, SHRUNK_UNDERLAY_MTU)))
    return {undo: [...ctx.plan.nodes.map((n) => mtu(n.routerPort, UNDERLAY_MTU)), mtu(ctx.plan.router.bridge, UNDERLAY_MTU)]}
  },
}
