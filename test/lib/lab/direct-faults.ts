/**
 * Changes made directly in a lab node's namespace, for the reason codes no `knet lab break` fault
 * makes (those are in fault-cases.ts) and for the VXLAN evidence flannel leaves when it removes a
 * peer's entries: what trace must say, and for some what doctor must report.
 */
import type {LabPlan} from '../../../src/lib/lab/plan.js'
import type {ProbeRequest} from '../../../src/lib/lab/probe.js'
import type {ReasonCode, TraceResult} from '../../../src/lib/trace/types.js'

export interface DirectFault {
  code: ReasonCode
  /** What is broken: argv run in the root namespace (`ip -n`, `bridge -n`, `ip netns exec`). */
  apply: string[][]
  restore: string[][]
  src: string
  dst: string
  args?: string[]
  verdict?: TraceResult['verdict']
  probe?: Partial<ProbeRequest>
  /** Why the real packet's fate is not asserted (kernel state no evidence shows decides it), so it is not sent. */
  realOutcomeVaries?: string
  /** doctor's findings ("severity check node") and lines the first finding's evidence must include. */
  doctor?: {title: string; findings: string[]; evidence: (string | RegExp)[]}
}

function sh(plan: LabPlan, node: number, command: string): string[] {
  return ['ip', 'netns', 'exec', plan.nodes[node - 1]?.netns ?? '', 'sh', '-c', command]
}

function podCidrRoute(plan: LabPlan, from: number, to: number): string {
  const r = plan.nodes[from - 1]?.routes.find((x) => x.id === `node-${from}/pod-cidr/node-${to}`)
  if (!r) throw new Error('no planned route')
  return `ip route replace ${r.dst} via ${r.via ?? ''} dev ${r.dev}${r.onlink ? ' onlink' : ''}`
}

export function directFaults(plan: LabPlan): DirectFault[] {
  // aws-vpc has no route to another node's pods to change (the VPC delivers them): its faults are lab faults.
  if (plan.params.topology === 'aws-vpc') return []
  const restoreRoute = [sh(plan, 1, podCidrRoute(plan, 1, 2))]
  const bridged = plan.params.topology !== 'ptp' && plan.params.topology !== 'calico-vxlan'
  // node-2's pod range (Calico: its IPAM block, not its podCIDR) and web-2-2's address, from the plan.
  const block = plan.nodes[1]?.ipamBlock ?? plan.nodes[1]?.podCIDR ?? ''
  const web22 = plan.pods.find((p) => p.name === 'web-2-2')?.ip ?? ''
  const all: DirectFault[] = [
    {code: 'route-blackhole', apply: [sh(plan, 1, `ip route replace blackhole ${block}`)], restore: restoreRoute, src: 'web-1-1', dst: 'web-2-2'},
    {code: 'route-nexthop-wrong', apply: [sh(plan, 1, `ip route replace ${block} via 10.100.0.1 dev eth0`)], restore: restoreRoute, src: 'web-1-1', dst: 'web-2-1'},
    {code: 'netfilter-drop', apply: [sh(plan, 2, `iptables -I FORWARD -d ${web22} -j DROP`)], restore: [sh(plan, 2, `iptables -D FORWARD -d ${web22} -j DROP`)], src: 'web-1-1', dst: 'web-2-2'},
    {code: 'hairpin-off', apply: [sh(plan, 2, 'ip link set veth2 type bridge_slave hairpin off')], restore: [sh(plan, 2, 'ip link set veth2 type bridge_slave hairpin on')], src: 'web-2-2', dst: 'svc/default/web', verdict: 'partial',
      // br_netfilter sends a DNATed frame back out of the port it came in by (where hairpin matters)
      // only when the node's neighbour entry for the pod has a cached hardware header; without one the
      // frame leaves straight through the veth and arrives. Whether the header is cached depends on
      // how the entry was last used, which neither `ip neigh` nor any other evidence shows: CI saw
      // both outcomes in both topologies, even after forcing the cache. So trace's code is checked
      // on the real lab's evidence, and the packet's fate is not.
      realOutcomeVaries: 'neighbour header cache'},
    {code: 'netfilter-reject', apply: [], restore: [], src: 'web-2-1', dst: 'svc/default/empty'},
  ]
  // hairpin is a bridge port's mode; a ptp pod reaching itself through a Service is routed back out of its veth.
  if (!bridged) all.splice(all.findIndex((f) => f.code === 'hairpin-off'), 1)
  const n1 = plan.nodes[0]
  const fdb = n1?.fdb.find((f) => f.toNode === 'node-2')
  const neigh = n1?.neighbours.find((n) => n.toNode === 'node-2')
  if (plan.params.topology === 'vxlan' && n1 && fdb && neigh) {
    all.push(
      {
        code: 'route-missing',
        apply: [['ip', '-n', n1.netns, 'neigh', 'del', neigh.ip, 'dev', neigh.dev]],
        restore: [['ip', '-n', n1.netns, 'neigh', 'replace', neigh.ip, 'lladdr', neigh.mac, 'dev', neigh.dev, 'nud', 'permanent']],
        src: 'web-1-1',
        dst: 'web-2-1',
        doctor: {title: 'no neighbour entry for node-2', findings: ['error route-missing node-1'], evidence: ['10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink']},
      },
      {
        code: 'route-missing',
        apply: [['bridge', '-n', n1.netns, 'fdb', 'del', fdb.mac, 'dev', fdb.dev, 'dst', fdb.dst]],
        restore: [['bridge', '-n', n1.netns, 'fdb', 'append', fdb.mac, 'dev', fdb.dev, 'dst', fdb.dst]],
        src: 'web-1-2',
        dst: 'web-2-2',
        doctor: {
          title: 'no FDB entry for node-2',
          findings: ['error route-missing node-1'],
          evidence: ['10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink', /^10\.244\.2\.0 dev flannel\.1 lladdr [0-9a-f:]+ PERMANENT$/],
        },
      },
      // 1423 bytes of ICMP data + 28 of headers is one more than the overlay's 1450.
      {code: 'mtu-exceeded', apply: [], restore: [], src: 'web-1-1', dst: 'web-2-1', args: ['--protocol', 'icmp', '--size', '1423'], probe: {protocol: 'icmp', size: 1423}},
    )
  }
  return all
}
