/**
 * Every `knet lab break` fault (with its defaults, 2 nodes × 2 pods), in both topologies: the probes
 * whose exact line `knet lab probe` must print while it is applied — for the pairs its expect text
 * names, also the `knet trace` arguments whose verdict and reason code must agree with the probe —
 * and the doctor findings it must cause, with the evidence lines the first one quotes.
 * lab-faults-suite.ts breaks each fault once and checks all three from one capture.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'
import {STALE_CONNTRACK_PORT} from '../../../src/lib/lab/faults/stale-conntrack.js'
import type {AppliedFault} from '../../../src/lib/lab/faults/types.js'
import {type ProbeRequest} from '../../../src/lib/lab/probe.js'
import type {LabPlan, Topology} from '../../../src/lib/lab/plan.js'
import type {ReasonCode} from '../../../src/lib/trace/types.js'
import {probeAll} from './lab-harness.js'
import {pod, svc} from './faults-harness.js'

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
  'missing-pod-route': 'route-missing',
  // Calico: nothing answers the pod's ARP for its gateway; a VTEP's FDB entry is gone.
  'proxy-arp-off': 'route-missing',
  'missing-fdb': 'route-missing',
  // AWS VPC CNI: a lost "to POD lookup main" rule sends a same-node pod's traffic through the ENI's table.
  'missing-pod-rule': 'route-missing',
}

export type Observed = 'delivered' | 'timeout' | 'error' | 'refused' | 'partial'

/** One probe of the broken lab, and (for the pairs the fault's expect text names) the trace that must agree with it. */
export interface Row {
  probe: ProbeRequest
  /** The probe line (faults-harness.ts probeLine); a function where it names what the break chose. */
  line: string | ((applied: AppliedFault) => string)
  trace?: string[]
  /** When this pair meets another code than the fault's (e.g. stale-nat's direct pair reaches an address no pod has any more). */
  code?: ReasonCode
}

/** What the running lab's tests can use. */
export interface LabHandle {
  name: string
  root: string
  plan: LabPlan
}

export interface LabFaultCase {
  id: string
  rows: Row[]
  /** Probed after `rows`, on their own (one prober per source pod at a time). */
  later?: Row[]
  /** doctor's findings as "severity check node-or-subject" (sorted), and lines the first finding's evidence must include. */
  findings: string[]
  evidence: (string | RegExp)[]
  /**
   * Traffic between the rows' pairs before the break, so each pod's neighbour and FDB entries are
   * known as on a busy node (a detached veth's pod is then still in the node's neighbour table).
   */
  warmUp?: boolean
  /**
   * Probe before the capture (the others capture first, as `knet trace --probe` does, so doctor's
   * conntrack and counter evidence is not the probes'): why the capture needs the probes' traffic.
   */
  probeFirst?: string
  /** More checks while the fault is applied, and after heal. */
  whileBroken?: (lab: LabHandle, applied: AppliedFault) => Promise<void>
  afterHeal?: (lab: LabHandle, applied: AppliedFault) => Promise<void>
}

/** The outcome a probe line names. */
export function observedIn(line: string): Observed {
  const m = /: (delivered|timeout|error|refused|partial) \[[^\]]*\]$/.exec(line)
  if (!m) throw new Error(`not a probe line: ${line}`)
  return m[1] as Observed
}

/** The trace verdict that corresponds to what a probe observes. */
export function verdictFor(observed: Observed): string {
  return observed === 'delivered' || observed === 'partial' ? observed : 'dropped'
}

/**
 * A row. A pod probe expected to time out waits its whole timeout, so it gets a short one: 500 ms,
 * or 1 s for ICMP (ping waits whole seconds; longer, and a packet routed to a link with no such
 * host turns from silence into ARP's "host unreachable"). A dropped packet stays dropped, so this
 * cannot make it flaky. Probes expected to be answered wait probeAll's 5 s per attempt, so a slow
 * answer on a loaded machine is still an answer.
 */
function r(probe: ProbeRequest, line: string | ((applied: AppliedFault) => string), trace?: string[], code?: ReasonCode): Row {
  const silent = typeof line === 'string' && observedIn(line) === 'timeout' && probe.timeoutMs === undefined && !probe.destination.startsWith('svc/')
  return {probe: silent ? {...probe, timeoutMs: probe.protocol === 'icmp' ? 1000 : 500} : probe, line, ...(trace ? {trace} : {}), ...(code ? {code} : {})}
}

/** A Service probe expected to be answered by every endpoint: the default attempts (stopping once all answered) and timeout. */
function svcAll(source: string, service: string, extra: Partial<ProbeRequest> = {}): ProbeRequest {
  return {source, destination: `svc/default/${service}`, ...extra}
}

/** The dns endpoint the API still lists after stale-conntrack removed the one the stuck flow went to. */
function remainingDns(applied: AppliedFault): string {
  const remaining = ['web-1-1', 'web-2-1'].filter((p) => p !== applied.data?.endpoint)
  expect(remaining).toHaveLength(1)
  return remaining.join(',')
}

export function labFaultCases(topology: Topology): LabFaultCase[] {
  if (topology === 'aws-vpc') return [...awsGenericCases(ptpCases(bridgedCases('host-gw'))), ...awsCases()]
  if (topology === 'calico-vxlan') return calicoCases(ptpCases(bridgedCases('vxlan')))
  return topology === 'ptp' ? ptpCases(bridgedCases('host-gw')) : bridgedCases(topology)
}

/** Calico's lab addresses: node i's IPAM block 10.244.(100+i).64/26, pod p at .(64+p). */
const CALICO_WEB_2_2 = '10.244.102.66'
const CALI_VETH = '[0-9a-f]{11}'

/**
 * calico-vxlan: the ptp cases (routed veths, no bridge) over VXLAN (vxlan's MTU sizes), where they
 * differ: the pods' addresses are in the nodes' /26 blocks, a pod whose /32 is gone falls into its
 * node's blackhole for the block, the overlay device is vxlan.calico; and the two Calico faults.
 */
function calicoCases(ptp: LabFaultCase[]): LabFaultCase[] {
  const cases = ptp.map((c): LabFaultCase => {
    switch (c.id) {
      case 'missing-route':
        // Two nodes: no other block's route to compare with; vxlan.calico says the route belongs there.
        // The block is node-2's by its IPAMBlock object, which the lab serves.
        return {...c, evidence: ['default via 10.100.0.1 dev eth0', /^\d+: vxlan\.calico vxlan mtu 1450 state UNKNOWN /, 'host:node-2 (spec.cidr 10.244.102.64/26)']}
      case 'stale-route':
        return {...c, evidence: [/^66:ca:1c:00:00:02 dev vxlan\.calico dst 10\.100\.0\.202 self permanent$/]}
      case 'stale-nat':
        // The deleted pod's address is in node-2's IPAM block (not its podCIDR), and node-2 routes it to no veth.
        return {
          ...c,
          rows: c.rows.map((x) => (x.code === 'address-unowned' ? {...x, trace: ['web-1-1', `${CALICO_WEB_2_2}:8080`]} : x)),
          evidence: [/^-A KUBE-SEP-\w+ -p tcp -m comment --comment "default\/web(-np)?:http" -m tcp -j DNAT --to-destination 10\.244\.102\.66:8080$/],
        }
      case 'veth-detached':
        // The kernel drops the scope-link /32 with the veth: the pod's address falls into node-2's blackhole for its block.
        return {...c, evidence: [new RegExp(`^\\d+: cali${CALI_VETH}@if2 veth mtu 1450 state DOWN link-netnsid \\d+ <BROADCAST,MULTICAST>$`), `${CALICO_WEB_2_2} (spec.nodeName node-2)`]}
      case 'mtu-mismatch':
        return {...c, evidence: [/^2: eth0@if\d+ veth mtu 1400 state UP /]}
      case 'stale-conntrack':
        return {...c, evidence: [/^udp 17 \d+ src=10\.244\.101\.66 dst=10\.96\.0\.53 sport=40053 dport=53 src=10\.244\.\d+\.\d+ .*\(line \d+\)$/]}
      case 'missing-pod-route':
        return {...c, evidence: ['blackhole 10.244.102.64/26', new RegExp(`^\\d+: cali${CALI_VETH}@if2 veth mtu 1450 state UP link-netnsid \\d+ <BROADCAST,MULTICAST,UP,LOWER_UP>$`), `${CALICO_WEB_2_2} (spec.nodeName node-2)`]}
      default:
        return c
    }
  })
  return [
    ...cases,
    {
      id: 'proxy-arp-off',
      rows: [
        r(pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: timeout []', ['web-2-2', 'web-1-1']),
        r(pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []', ['web-1-1', 'web-2-2']),
        r(svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]', ['web-1-1', 'svc/default/web']),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]', ['web-1-1', 'web-2-1']),
      ],
      findings: ['error proxy-arp-off node-2'],
      evidence: [new RegExp(`^/proc/sys/net/ipv4/conf/cali${CALI_VETH}/proxy_arp:0$`), '/proc/sys/net/ipv4/conf/all/proxy_arp:0', new RegExp(`^${CALICO_WEB_2_2.replaceAll('.', '\\.')} dev cali${CALI_VETH} scope link$`)],
    },
    {
      id: 'missing-fdb',
      rows: [
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []', ['web-1-1', 'web-2-1']),
        r(pod('web-2-1', 'web-1-2', 'udp'), 'web-2-1 → web-1-2 udp: timeout []', ['web-2-1', 'web-1-2', '--protocol', 'udp']),
        r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]', ['web-1-1', 'web-1-2']),
      ],
      findings: ['error route-missing node-1'],
      evidence: ['10.244.102.64/26 via 10.244.102.64 dev vxlan.calico onlink', '10.244.102.64 dev vxlan.calico lladdr 66:ca:1c:00:00:02 PERMANENT'],
    },
  ]
}

/** The AWS VPC CNI lab's addresses: node i's pod p is 10.100.0.(16i + p − 1); even pods are on the secondary ENI eth1. */
const AWS_WEB_1_2 = '10.100.0.17'
const AWS_WEB_2_1 = '10.100.0.32'
const AWS_WEB_2_2 = '10.100.0.33'
const ENI_VETH = 'eni[0-9a-f]{11}'

/** The generic faults that apply to aws-vpc (the others are refused there: registry notFor). */
const AWS_GENERIC = ['stale-nat', 'missing-nat', 'ip-forward-off', 'forward-drop', 'veth-detached', 'mtu-mismatch', 'netpol-deny', 'stale-conntrack']
const re = (ip: string) => ip.replaceAll('.', '\\.')

/**
 * aws-vpc: the ptp cases (routed veths, no bridge, no overlay) where they apply, with the pods' VPC
 * addresses; where they differ: a ClusterIP kube-proxy
 * does not translate goes to the VPC's gateway (host unreachable), a secondary-ENI pod is reached by
 * its node's eth1 (which mtu-mismatch leaves at 1500), and a deleted pod's address is the VPC's.
 */
function awsGenericCases(ptp: LabFaultCase[]): LabFaultCase[] {
  return ptp.filter((c) => AWS_GENERIC.includes(c.id)).map((c): LabFaultCase => {
    switch (c.id) {
      case 'stale-nat':
        return {
          ...c,
          // The deleted pod's address is one of the VPC subnet's that no node holds: it may be any
          // instance's, so trace says unknown (evidence-missing) for the direct pair; only the probe is asserted.
          rows: c.rows.map(({trace, ...x}) => (x.code === 'address-unowned' ? {probe: x.probe, line: x.line} : {...x, ...(trace ? {trace} : {})})),
          evidence: [new RegExp(`^-A KUBE-SEP-\\w+ -p tcp -m comment --comment "default\\/web(-np)?:http" -m tcp -j DNAT --to-destination ${re(AWS_WEB_2_2)}:8080$`)],
        }
      case 'missing-nat':
        // The ClusterIP, not DNATed, follows the pod's default route out to the VPC's gateway, which answers host unreachable.
        return {...c, rows: c.rows.map((x) => (typeof x.line === 'string' && x.line.endsWith('svc/default/web tcp: timeout []') ? {...x, line: x.line.replace('timeout []', 'error []')} : x))}
      case 'mtu-mismatch':
        // web-1-2 is a secondary-ENI pod: its traffic arrives by node-1's eth1, which keeps MTU 1500.
        return {
          ...c,
          rows: c.rows.map((x) => (x.trace?.join(' ') === 'web-2-2 web-1-2 --protocol icmp --size 1472' ? {...x, line: 'web-2-2 → web-1-2 icmp size 1472: delivered [web-1-2]'} : x)),
        }
      case 'veth-detached':
        // The kernel drops the scope-link /32 with the down veth; the veth is named by elimination (the only unrouted one).
        return {...c, evidence: [new RegExp(`^\\d+: ${ENI_VETH}@if2 veth mtu 1500 state DOWN link-netnsid \\d+ <BROADCAST,MULTICAST>$`), `${AWS_WEB_2_2} (spec.nodeName node-2)`]}
      case 'stale-conntrack':
        return {...c, evidence: [new RegExp(`^udp 17 \\d+ src=${re(AWS_WEB_1_2)} dst=10\\.96\\.0\\.53 sport=40053 dport=53 src=10\\.100\\.0\\.\\d+ .*\\(line \\d+\\)$`)]}
      default:
        return c
    }
  })
}

/**
 * aws-vpc: its own two faults (the generic ones that apply are not repeated here): node-2 loses
 * web-2-2's /32 (web-2-2's address then follows node-2's connected VPC subnet route out of eth0),
 * and node-2 loses web-2-1's "512: to POD lookup main" rule (web-2-2, on the secondary ENI, then
 * reaches web-2-1 by its own "from" rule's table, out to the VPC and back, until the TTL runs out).
 */
function awsCases(): LabFaultCase[] {
  return [
    {
      id: 'missing-pod-route',
      rows: [
        r(pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []', ['web-1-1', 'web-2-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: timeout []', ['web-2-1', 'web-2-2']),
        r(pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: timeout []', ['web-2-2', 'web-1-1']),
        r(pod('web-1-2', 'web-2-2', 'udp'), 'web-1-2 → web-2-2 udp: timeout []', ['web-1-2', 'web-2-2', '--protocol', 'udp']),
        r(svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]', ['web-1-1', 'svc/default/web']),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]', ['web-1-1', 'web-2-1']),
      ],
      findings: ['error route-missing node-2'],
      evidence: ['10.100.0.0/24 dev eth0 proto kernel scope link src 10.100.0.3', new RegExp(`^\\d+: ${ENI_VETH}@if2 veth mtu 1500 state UP link-netnsid \\d+ <BROADCAST,MULTICAST,UP,LOWER_UP>$`), `${AWS_WEB_2_2} (spec.nodeName node-2)`],
    },
    {
      id: 'missing-pod-rule',
      rows: [
        // The SYN loops between node-2 and the VPC gateway; the ICMP time exceeded ends the connect.
        r(pod('web-2-2', 'web-2-1'), 'web-2-2 → web-2-1 tcp: error []', ['web-2-2', 'web-2-1']),
        // The SYN arrives; web-2-2's answer is what loops.
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: timeout []', ['web-2-1', 'web-2-2']),
        r(svc('web-2-2', 'web'), 'web-2-2 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-2]', ['web-2-2', 'svc/default/web']),
        r(pod('web-1-2', 'web-2-1'), 'web-1-2 → web-2-1 tcp: delivered [web-2-1]', ['web-1-2', 'web-2-1']),
        r(pod('web-2-2', 'web-1-1', 'udp'), 'web-2-2 → web-1-1 udp: delivered [web-1-1]', ['web-2-2', 'web-1-1', '--protocol', 'udp']),
      ],
      findings: ['error route-missing node-2'],
      evidence: [`1536: from ${AWS_WEB_2_2} lookup 2`, 'default via 10.100.0.1 dev eth1 table 2', new RegExp(`^${AWS_WEB_2_1.replaceAll('.', '\\.')} dev ${ENI_VETH} scope link$`)],
    },
  ]
}

/** Faults that need a bridge do not apply to ptp (lab break refuses them, --list says why). */
const NOT_FOR_PTP = ['docker0-overlap', 'cidr-overlap', 'bridge-nf-off', 'bridge-down']

/**
 * ptp (kindnet): the host-gw cases where the outcomes are the same, and where they differ: pods on
 * one node reach each other through the node's routing (ip_forward), a pod's down veth is link-down,
 * and a node can lose one pod's /32 route (missing-pod-route).
 */
function ptpCases(hostgw: LabFaultCase[]): LabFaultCase[] {
  const cases = hostgw.filter((c) => !NOT_FOR_PTP.includes(c.id)).map((c): LabFaultCase => {
    switch (c.id) {
      case 'ip-forward-off':
        return {...c, rows: c.rows.map((x) => (x.trace?.join(' ') === 'web-1-1 web-1-2' ? r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: timeout []', ['web-1-1', 'web-1-2']) : x))}
      case 'veth-detached':
        // The pod's veth is down; the /32 route to it stays (every ptp veth holds the gateway /32) and names it.
        return {
          ...c,
          rows: c.rows.map((x) => ({...x, ...(x.trace ? {code: 'link-down' as const} : {})})),
          findings: ['error veth-down node-2'],
          evidence: [/^\d+: veth2@if2 veth mtu 1500 state DOWN link-netnsid \d+ <BROADCAST,MULTICAST>$/, '10.244.2.3 dev veth2 scope host', '10.244.2.3 (spec.nodeName node-2)'],
        }
      case 'mtu-mismatch':
        return {...c, evidence: [/^2: eth0@if\d+ veth mtu 1400 state UP /]}
      default:
        return c
    }
  })
  return [
    ...cases,
    {
      id: 'missing-pod-route',
      rows: [
        r(pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []', ['web-1-1', 'web-2-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: timeout []', ['web-2-1', 'web-2-2']),
        r(pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: timeout []', ['web-2-2', 'web-1-1']),
        r(svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]', ['web-1-1', 'svc/default/web']),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]', ['web-1-1', 'web-2-1']),
      ],
      // node-2 routes web-2-2's address to its default route while web-2-2's veth is up.
      findings: ['error route-missing node-2'],
      evidence: ['default via 10.100.0.1 dev eth0', /^\d+: veth2@if2 veth mtu 1500 state UP link-netnsid \d+ <BROADCAST,MULTICAST,UP,LOWER_UP>$/, '10.244.2.3 (spec.nodeName node-2)'],
    },
  ]
}

function bridgedCases(topology: Topology): LabFaultCase[] {
  const vxlan = topology === 'vxlan'
  const bridgeMtu = vxlan ? 1450 : 1500
  // mtu-mismatch: node-1's eth0 at 1400; ICMP payloads that fit it, and full-size ones (1500 − overhead − 28).
  const [small, full] = vxlan ? [1322, 1422] : [1372, 1472]
  const icmp = (src: string, dst: string, size: number, outcome: string, trace = true) =>
    r(pod(src, dst, 'icmp', {size}), `${src} → ${dst} icmp size ${size}: ${outcome} [${outcome === 'delivered' ? dst : ''}]`, trace ? [src, dst, '--protocol', 'icmp', '--size', String(size)] : undefined)
  return [
    {
      id: 'missing-route',
      rows: [
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []', ['web-1-1', 'web-2-1']),
        // The request gets there; the reply is what has no route.
        r(pod('web-2-1', 'web-1-2', 'udp'), 'web-2-1 → web-1-2 udp: timeout []', ['web-2-1', 'web-1-2', '--protocol', 'udp']),
        r(pod('web-2-2', 'web-1-2', 'udp'), 'web-2-2 → web-1-2 udp: timeout []'),
        r(pod('web-1-1', 'web-2-2', 'icmp'), 'web-1-1 → web-2-2 icmp: timeout []', ['web-1-1', 'web-2-2', '--protocol', 'icmp']),
        r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]', ['web-1-1', 'web-1-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'),
      ],
      findings: ['error route-missing node-1'],
      evidence: ['default via 10.100.0.1 dev eth0'],
    },
    {
      id: 'stale-route',
      rows: [
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []', ['web-1-1', 'web-2-1']),
        r(pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: timeout []', ['web-2-2', 'web-1-1']),
        r(pod('web-2-2', 'web-1-1', 'icmp'), 'web-2-2 → web-1-1 icmp: timeout []'),
        r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]', ['web-1-1', 'web-1-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'),
      ],
      findings: ['error route-nexthop-wrong node-1'],
      // host-gw: the route's next hop; vxlan: the VTEP's FDB entry for node-2 points at the old IP.
      evidence: [vxlan ? /^[0-9a-f:]+ dev flannel\.1 dst 10\.100\.0\.202 self permanent$/ : '10.244.2.0/24 via 10.100.0.202 dev eth0'],
    },
    {
      id: 'docker0-overlap',
      // Captured before any traffic to it, node-2's neighbour table has no entry for 172.17.2.3 and
      // no API object names it, so trace says unknown (evidence-missing) for node-2's own pods →
      // 172.17.2.3 (test/lib/trace/overlap-reply.test.ts); once traffic has made the entry, it
      // follows the MAC to web-2-2 and agrees with the probe, which is what this case asserts.
      probeFirst: "172.17.2.3 is in no API object: only node-2's neighbour entry, which traffic creates, shows that it is web-2-2's",
      rows: [
        r(pod('web-1-1', '172.17.2.3:8080'), 'web-1-1 → 172.17.2.3:8080 tcp: timeout []', ['web-1-1', '172.17.2.3:8080']),
        r(pod('web-1-2', '172.17.2.3', 'icmp'), 'web-1-2 → 172.17.2.3 icmp: timeout []', ['web-1-2', '172.17.2.3', '--protocol', 'icmp']),
        r(pod('web-2-1', '172.17.2.3:8080'), 'web-2-1 → 172.17.2.3:8080 tcp: delivered [web-2-2]', ['web-2-1', '172.17.2.3:8080']),
        r(pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: delivered [web-2-2]', ['web-1-1', 'web-2-2']),
      ],
      findings: ['error cidr-overlap node-1'],
      evidence: ['docker0 inet 172.17.0.1/16', '172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1', 'cbr0 inet 172.17.2.1/24'],
    },
    {
      id: 'cidr-overlap',
      rows: [
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []', ['web-1-1', 'web-2-1']),
        r(pod('web-2-2', 'web-1-2', 'udp'), 'web-2-2 → web-1-2 udp: timeout []', ['web-2-2', 'web-1-2', '--protocol', 'udp']),
        r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]', ['web-1-1', 'web-1-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]', ['web-2-1', 'web-2-2']),
      ],
      findings: ['error cidr-overlap node-1'],
      evidence: ['cbr0 inet 10.244.2.1/24', '10.244.2.0/24 dev cbr0 proto kernel scope link src 10.244.2.1', '10.244.2.0/24'],
    },
    {
      id: 'stale-nat',
      rows: [
        r(svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]', ['web-1-1', 'svc/default/web']),
        // web-2-2 is gone from the API: trace names its old address, the probe its old name.
        r(pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []', ['web-1-1', '10.244.2.3:8080'], 'address-unowned'),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]', ['web-1-1', 'web-2-1']),
      ],
      findings: ['error nat-stale-endpoint node-1', 'error nat-stale-endpoint node-1', 'error nat-stale-endpoint node-2', 'error nat-stale-endpoint node-2'],
      evidence: [/^-A KUBE-SEP-\w+ -p tcp -m comment --comment "default\/web(-np)?:http" -m tcp -j DNAT --to-destination 10\.244\.2\.3:8080$/],
    },
    {
      id: 'missing-nat',
      rows: [
        r(svc('web-1-1', 'web', {attempts: 2}), 'web-1-1 → svc/default/web tcp: timeout []', ['web-1-1', 'svc/default/web']),
        r(svc('web-1-2', 'web', {attempts: 2}), 'web-1-2 → svc/default/web tcp: timeout []'),
        r(svcAll('web-2-1', 'web'), 'web-2-1 → svc/default/web tcp: delivered [web-1-1,web-1-2,web-2-1,web-2-2]', ['web-2-1', 'svc/default/web']),
        r(svcAll('web-1-1', 'dns'), 'web-1-1 → svc/default/dns udp: delivered [web-1-1,web-2-1]', ['web-1-1', 'svc/default/dns']),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'),
      ],
      findings: ['error nat-missing-service node-1'],
      evidence: ['no -A KUBE-SERVICES rule with comment "default/web:http cluster IP" in *nat'],
    },
    {
      id: 'ip-forward-off',
      rows: [
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []', ['web-1-1', 'web-2-1']),
        r(pod('web-2-1', 'web-1-1'), 'web-2-1 → web-1-1 tcp: timeout []', ['web-2-1', 'web-1-1']),
        r(svc('web-1-1', 'dns', {attempts: 2}), 'web-1-1 → svc/default/dns udp: timeout []', ['web-1-1', 'svc/default/dns']),
        r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]', ['web-1-1', 'web-1-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'),
      ],
      findings: ['error ip-forward-off node-1'],
      evidence: ['/proc/sys/net/ipv4/ip_forward:0'],
    },
    {
      id: 'forward-drop',
      rows: [
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []', ['web-1-1', 'web-2-1']),
        r(pod('web-2-1', 'web-1-1'), 'web-2-1 → web-1-1 tcp: timeout []', ['web-2-1', 'web-1-1']),
        r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: timeout []', ['web-1-1', 'web-1-2']),
        r(svc('web-1-2', 'dns', {attempts: 2}), 'web-1-2 → svc/default/dns udp: timeout []', ['web-1-2', 'svc/default/dns']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]', ['web-2-1', 'web-2-2']),
      ],
      findings: ['error forward-policy-drop node-1'],
      evidence: [':FORWARD DROP [0:0]'],
    },
    {
      id: 'bridge-nf-off',
      rows: [
        r(svc('web-1-2', 'dns', {attempts: 24}), 'web-1-2 → svc/default/dns udp: partial [web-2-1]', ['web-1-2', 'svc/default/dns']),
        r(pod('web-1-2', 'web-1-1', 'udp'), 'web-1-2 → web-1-1 udp: delivered [web-1-1]', ['web-1-2', 'web-1-1', '--protocol', 'udp']),
        r(svcAll('web-2-2', 'dns'), 'web-2-2 → svc/default/dns udp: delivered [web-1-1,web-2-1]', ['web-2-2', 'svc/default/dns']),
      ],
      findings: ['error bridge-nf-call-off node-1'],
      evidence: ['/proc/sys/net/bridge/bridge-nf-call-iptables:0'],
    },
    {
      id: 'veth-detached',
      warmUp: true,
      rows: [
        r(pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []', ['web-1-1', 'web-2-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: timeout []', ['web-2-1', 'web-2-2']),
        r(pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: timeout []', ['web-2-2', 'web-1-1']),
        r(svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]', ['web-1-1', 'svc/default/web']),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]', ['web-1-1', 'web-2-1']),
      ],
      findings: ['error veth-detached node-2'],
      evidence: [new RegExp(`^\\d+: veth2@if2 veth mtu ${bridgeMtu} state UP link-netnsid \\d+ <BROADCAST,MULTICAST,UP,LOWER_UP>$`)],
    },
    {
      id: 'bridge-down',
      rows: [
        r(pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: timeout []', ['web-1-1', 'web-1-2']),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []', ['web-1-1', 'web-2-1']),
        r(pod('web-2-1', 'web-1-1', 'icmp'), 'web-2-1 → web-1-1 icmp: timeout []', ['web-2-1', 'web-1-1', '--protocol', 'icmp']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]', ['web-2-1', 'web-2-2']),
      ],
      findings: ['error bridge-down node-1'],
      evidence: [`3: cbr0 bridge mtu ${bridgeMtu} state DOWN <BROADCAST,MULTICAST>`],
    },
    {
      id: 'mtu-mismatch',
      rows: [
        icmp('web-1-1', 'web-2-1', small, 'delivered'),
        // host-gw: node-1 itself answers "fragmentation needed"; vxlan: node-1 fragments, the full-size reply is dropped.
        icmp('web-1-1', 'web-2-1', full, vxlan ? 'timeout' : 'error'),
        icmp('web-2-2', 'web-1-2', full, 'timeout'),
        icmp('web-1-1', 'web-1-2', full, 'delivered'),
        r(pod('web-2-1', 'web-1-1'), 'web-2-1 → web-1-1 tcp: delivered [web-1-1]'),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'),
      ],
      findings: ['error mtu-mismatch node-1'],
      evidence: [
        vxlan ? '4: flannel.1 vxlan mtu 1450 state UNKNOWN <BROADCAST,MULTICAST,UP,LOWER_UP>' : '3: cbr0 bridge mtu 1500 state UP <BROADCAST,MULTICAST,UP,LOWER_UP>',
        /^2: eth0@if\d+ veth mtu 1400 state UP /,
      ],
    },
    {
      id: 'netpol-deny',
      rows: [
        r(pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []', ['web-1-1', 'web-2-2']),
        r(pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: timeout []', ['web-2-1', 'web-2-2']),
        r(pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: delivered [web-1-1]', ['web-2-2', 'web-1-1']),
        r(svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]', ['web-1-1', 'svc/default/web']),
        r(pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'),
      ],
      findings: ['info netpol-isolates networkpolicy/default/deny-ingress-web-2-2'],
      evidence: ['knet.dev/quarantine=true'],
    },
    {
      id: 'stale-conntrack',
      rows: [
        r(svc('web-1-2', 'dns', {sourcePort: STALE_CONNTRACK_PORT, attempts: 2}), 'web-1-2 → svc/default/dns udp: timeout []', ['web-1-2', 'svc/default/dns', '--source-port', String(STALE_CONNTRACK_PORT)]),
        r(svcAll('web-2-2', 'dns', {attempts: 6}), (a) => `web-2-2 → svc/default/dns udp: delivered [${remainingDns(a)}]`, ['web-2-2', 'svc/default/dns']),
      ],
      // The fresh source port, from the stuck client itself.
      later: [r(svcAll('web-1-2', 'dns', {attempts: 6}), (a) => `web-1-2 → svc/default/dns udp: delivered [${remainingDns(a)}]`)],
      findings: ['error conntrack-stale node-1'],
      evidence: [/^udp 17 \d+ src=10\.244\.1\.3 dst=10\.96\.0\.53 sport=40053 dport=53 src=10\.244\.\d+\.\d+ .*\(line \d+\)$/],
      whileBroken: async (lab, applied) => {
        const objects = JSON.parse(readFileSync(join(lab.root, `lab-${lab.name}`, 'objects.json'), 'utf8')) as {items: {kind: string; metadata: {name: string}}[]}
        expect(objects.items.filter((o) => o.kind === 'Pod').map((o) => o.metadata.name)).not.toContain(applied.data?.endpoint)
      },
      afterHeal: async (lab) => {
        // Healed: the stuck port's entry was flushed, so that port is answered again.
        const [again] = await probeAll(lab.plan, [svcAll('web-1-2', 'dns', {sourcePort: STALE_CONNTRACK_PORT, attempts: 1})])
        expect(again?.outcome).toBe('delivered')
      },
    },
  ]
}
