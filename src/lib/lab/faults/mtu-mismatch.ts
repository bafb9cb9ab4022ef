import {UNDERLAY_MTU, VXLAN_OVERHEAD} from '../plan.js'
import {oneNode, runAll} from './util.js'
import type {Fault} from './types.js'

/** The node's own NIC after the change; its peers on the segment still send 1500-byte frames. */
export const LOWERED_NIC_MTU = 1400

const ICMP_HEADERS = 28
const small = (overhead: number) => LOWERED_NIC_MTU - overhead - ICMP_HEADERS
const full = (overhead: number) => UNDERLAY_MTU - overhead - ICMP_HEADERS

export const mtuMismatch: Fault = {
  id: 'mtu-mismatch',
  emulates:
    "A node's NIC MTU is lower than the pod network was sized for (and than its peers on the segment use): the VM moved to a network with a 1400-byte MTU, or cloud-init/DHCP lowered it after flannel sized the overlay for 1500 (1450 with VXLAN, 1500 with host-gw). Full-size frames its peers send it are dropped silently, so small packets pass and big ones die — the classic \"ping works, TLS hangs\".",
  expect: `node-1's eth0 MTU is set to ${LOWERED_NIC_MTU} (its pods, cbr0, flannel.1 and the other nodes keep theirs); ICMP with don't-fragment, pods on node-1 ↔ pods on another node — vxlan: ${small(VXLAN_OVERHEAD)} payload bytes delivered, ${full(VXLAN_OVERHEAD)} timeout in both directions (node-1 fragments the encapsulated packets it sends, but drops the full-size frames that come back); host-gw: ${small(0)} delivered, node-1's pods → ${full(0)}: error (node-1 answers "fragmentation needed (mtu ${LOWERED_NIC_MTU})"), other nodes' pods → node-1's pods ${full(0)}: timeout (a black hole); same-node traffic of any size and small cross-node TCP delivered.`,
  expectFor: {'aws-vpc': `as host-gw, except that other nodes' pods → node-1's secondary-ENI pods (web-1-2) ${full(0)}: delivered, because that traffic arrives by node-1's eth1, which keeps its MTU.`},
  api: 'Linux only.',
  defaults: {node: 'node-1', target: 'eth0'},
  targetHelp: "fixed: the node's underlay interface eth0",
  real: {does: 'as emulated: flanneld sizes flannel.1 and the pod MTU from eth0 only when it starts, so nothing notices.'},
  async break(ctx) {
    const node = oneNode(ctx.node, this.id)
    const mtu = (value: number): string[] => ['ip', '-n', node.netns, 'link', 'set', 'eth0', 'mtu', String(value)]
    // Lowering the lower device under a VXLAN device is allowed (only raising flannel.1 above
    // eth0 − 50 is refused), and the kernel leaves flannel.1 at 1450: exactly the mismatch.
    await runAll([mtu(LOWERED_NIC_MTU)])
    // Heal also forgets the path MTUs learned meanwhile (pods cache "fragmentation needed" for
    // 10 minutes, nodes learn one per VXLAN destination), so big packets pass again at once.
    const everywhere = [ctx.plan.router.netns, ...ctx.plan.nodes.map((n) => n.netns), ...ctx.plan.pods.map((p) => p.netns)]
    return {undo: [mtu(UNDERLAY_MTU), ...everywhere.map((ns) => ['ip', '-n', ns, 'route', 'flush', 'cache'])]}
  },
}
