/**
 * For trace-lab-suite.ts: every `knet lab break` fault, with the pairs its `expect` text names, the
 * outcome the real probe must observe there, and the reason code trace must give. FAULT_CODES is
 * the explicit fault id → code table; a pair may name another code where the fault's own code is
 * not what that pair meets (e.g. stale-nat's direct pair reaches an address no pod has any more).
 */
import {STALE_CONNTRACK_PORT} from '../../../src/lib/lab/faults/stale-conntrack.js'
import type {ProbeRequest} from '../../../src/lib/lab/probe.js'
import type {Topology} from '../../../src/lib/lab/plan.js'
import type {ReasonCode} from '../../../src/lib/trace/types.js'
import {pod, svc} from '../lab/faults-harness.js'

/** The code each fault emulates. */
export const FAULT_CODES: Record<string, ReasonCode> = {
  'missing-route': 'route-missing',
  'stale-route': 'route-nexthop-wrong',
  'docker0-overlap': 'cidr-overlap',
  'cidr-overlap': 'cidr-overlap',
  'stale-nat': 'nat-stale-endpoint',
  'missing-nat': 'nat-missing-service',
  'ip-forward-off': 'ip-forward-off',
  'forward-drop': 'forward-drop',
  'bridge-nf-off': 'bridge-nf-off',
  'veth-detached': 'veth-detached',
  'bridge-down': 'link-down',
  'mtu-mismatch': 'mtu-exceeded',
  'netpol-deny': 'netpol-denied',
  // Only the flow conntrack already holds (one fixed source port) is stuck: trace --source-port
  // follows that entry to the removed endpoint; a new source port is a NEW connection, delivered.
  'stale-conntrack': 'nat-stale-endpoint',
}

export type Observed = 'delivered' | 'timeout' | 'error' | 'refused' | 'partial'

export interface FaultPair {
  trace: string[]
  probe: ProbeRequest
  observed: Observed
  /** When this pair meets another code than the fault's. */
  code?: ReasonCode
}

export interface LabFaultCase {
  id: string
  pairs: FaultPair[]
  /**
   * Capture the evidence before the probes: a detached veth's pod is then still in the node's
   * neighbour table (probing it afterwards turns the entry FAILED, without a MAC).
   */
  captureFirst?: boolean
}

const p = (trace: string[], probe: ProbeRequest, observed: Observed, code?: ReasonCode): FaultPair => ({trace, probe, observed, ...(code ? {code} : {})})

export function labFaultCases(topology: Topology): LabFaultCase[] {
  const vxlan = topology === 'vxlan'
  // mtu-mismatch: node-1's eth0 at 1400; ICMP payloads that fit it, and full-size ones (1500 − overhead − 28).
  const [small, full] = vxlan ? [1322, 1422] : [1372, 1472]
  const icmp = (src: string, dst: string, size: number, observed: Observed) =>
    p([src, dst, '--protocol', 'icmp', '--size', String(size)], pod(src, dst, 'icmp', {size}), observed)
  const all: LabFaultCase[] = [
    {id: 'missing-route', pairs: [
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'timeout'),
      // The request gets there; the reply is what has no route.
      p(['web-2-1', 'web-1-2', '--protocol', 'udp'], pod('web-2-1', 'web-1-2', 'udp'), 'timeout'),
      p(['web-1-1', 'web-2-2', '--protocol', 'icmp'], pod('web-1-1', 'web-2-2', 'icmp'), 'timeout'),
      p(['web-1-1', 'web-1-2'], pod('web-1-1', 'web-1-2'), 'delivered'),
    ]},
    {id: 'stale-route', pairs: [
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'timeout'),
      p(['web-2-2', 'web-1-1'], pod('web-2-2', 'web-1-1'), 'timeout'),
      p(['web-1-1', 'web-1-2'], pod('web-1-1', 'web-1-2'), 'delivered'),
    ]},
    {id: 'docker0-overlap', pairs: [
      p(['web-1-1', '172.17.2.3:8080'], {source: 'web-1-1', destination: '172.17.2.3:8080', protocol: 'tcp'}, 'timeout'),
      p(['web-1-2', '172.17.2.3', '--protocol', 'icmp'], pod('web-1-2', '172.17.2.3', 'icmp'), 'timeout'),
      p(['web-2-1', '172.17.2.3:8080'], {source: 'web-2-1', destination: '172.17.2.3:8080', protocol: 'tcp'}, 'delivered'),
      p(['web-1-1', 'web-2-2'], pod('web-1-1', 'web-2-2'), 'delivered'),
    ]},
    {id: 'cidr-overlap', pairs: [
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'timeout'),
      p(['web-2-2', 'web-1-2', '--protocol', 'udp'], pod('web-2-2', 'web-1-2', 'udp'), 'timeout'),
      p(['web-1-1', 'web-1-2'], pod('web-1-1', 'web-1-2'), 'delivered'),
      p(['web-2-1', 'web-2-2'], pod('web-2-1', 'web-2-2'), 'delivered'),
    ]},
    {id: 'stale-nat', pairs: [
      p(['web-1-1', 'svc/default/web'], svc('web-1-1', 'web'), 'partial'),
      // web-2-2 is gone from the API: trace names its old address, the probe its old name.
      p(['web-1-1', '10.244.2.3:8080'], pod('web-1-1', 'web-2-2'), 'timeout', 'address-unowned'),
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'delivered'),
    ]},
    {id: 'missing-nat', pairs: [
      p(['web-1-1', 'svc/default/web'], svc('web-1-1', 'web', {attempts: 2}), 'timeout'),
      p(['web-2-1', 'svc/default/web'], svc('web-2-1', 'web'), 'delivered'),
      p(['web-1-1', 'svc/default/dns'], svc('web-1-1', 'dns'), 'delivered'),
    ]},
    {id: 'ip-forward-off', pairs: [
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'timeout'),
      p(['web-2-1', 'web-1-1'], pod('web-2-1', 'web-1-1'), 'timeout'),
      p(['web-1-1', 'svc/default/dns'], svc('web-1-1', 'dns', {attempts: 2}), 'timeout'),
      p(['web-1-1', 'web-1-2'], pod('web-1-1', 'web-1-2'), 'delivered'),
    ]},
    {id: 'forward-drop', pairs: [
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'timeout'),
      p(['web-2-1', 'web-1-1'], pod('web-2-1', 'web-1-1'), 'timeout'),
      p(['web-1-1', 'web-1-2'], pod('web-1-1', 'web-1-2'), 'timeout'),
      p(['web-1-2', 'svc/default/dns'], svc('web-1-2', 'dns', {attempts: 2}), 'timeout'),
      p(['web-2-1', 'web-2-2'], pod('web-2-1', 'web-2-2'), 'delivered'),
    ]},
    {id: 'bridge-nf-off', pairs: [
      p(['web-1-2', 'svc/default/dns'], svc('web-1-2', 'dns'), 'partial'),
      p(['web-1-2', 'web-1-1', '--protocol', 'udp'], pod('web-1-2', 'web-1-1', 'udp'), 'delivered'),
      p(['web-2-2', 'svc/default/dns'], svc('web-2-2', 'dns'), 'delivered'),
    ]},
    {id: 'veth-detached', captureFirst: true, pairs: [
      p(['web-1-1', 'web-2-2'], pod('web-1-1', 'web-2-2'), 'timeout'),
      p(['web-2-1', 'web-2-2'], pod('web-2-1', 'web-2-2'), 'timeout'),
      p(['web-2-2', 'web-1-1'], pod('web-2-2', 'web-1-1'), 'timeout'),
      p(['web-1-1', 'svc/default/web'], svc('web-1-1', 'web'), 'partial'),
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'delivered'),
    ]},
    {id: 'bridge-down', pairs: [
      p(['web-1-1', 'web-1-2'], pod('web-1-1', 'web-1-2'), 'timeout'),
      p(['web-1-1', 'web-2-1'], pod('web-1-1', 'web-2-1'), 'timeout'),
      p(['web-2-1', 'web-1-1', '--protocol', 'icmp'], pod('web-2-1', 'web-1-1', 'icmp'), 'timeout'),
      p(['web-2-1', 'web-2-2'], pod('web-2-1', 'web-2-2'), 'delivered'),
    ]},
    {id: 'mtu-mismatch', pairs: [
      icmp('web-1-1', 'web-2-1', small, 'delivered'),
      // host-gw: node-1 itself answers "fragmentation needed"; vxlan: node-1 fragments, the full-size reply is dropped.
      icmp('web-1-1', 'web-2-1', full, vxlan ? 'timeout' : 'error'),
      icmp('web-2-2', 'web-1-2', full, 'timeout'),
      icmp('web-1-1', 'web-1-2', full, 'delivered'),
    ]},
    {id: 'netpol-deny', pairs: [
      p(['web-1-1', 'web-2-2'], pod('web-1-1', 'web-2-2'), 'timeout'),
      p(['web-2-1', 'web-2-2'], pod('web-2-1', 'web-2-2'), 'timeout'),
      p(['web-2-2', 'web-1-1'], pod('web-2-2', 'web-1-1'), 'delivered'),
      p(['web-1-1', 'svc/default/web'], svc('web-1-1', 'web'), 'partial'),
    ]},
    {id: 'stale-conntrack', pairs: [
      p(['web-1-2', 'svc/default/dns', '--source-port', String(STALE_CONNTRACK_PORT)], svc('web-1-2', 'dns', {sourcePort: STALE_CONNTRACK_PORT, attempts: 2}), 'timeout'),
      p(['web-2-2', 'svc/default/dns'], svc('web-2-2', 'dns', {attempts: 6}), 'delivered'),
    ]},
  ]
  // On VXLAN, the faults whose mechanics differ there (routes onto flannel.1, the VTEP's FDB entry, the MTU after encapsulation).
  return vxlan ? all.filter((c) => ['missing-route', 'stale-route', 'docker0-overlap', 'cidr-overlap', 'mtu-mismatch'].includes(c.id)) : all
}

/** The trace verdict that corresponds to what a probe observes. */
export function verdictFor(observed: Observed): string {
  return observed === 'delivered' || observed === 'partial' ? observed : 'dropped'
}
