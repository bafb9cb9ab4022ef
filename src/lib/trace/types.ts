/**
 * The result of `knet trace`: hops with evidence and a verdict. The JSON shape (schemaVersion 1) is
 * a contract other tools test against (project issue 5): field names and reason codes are stable.
 */

export const TRACE_SCHEMA_VERSION = 1

export const REASON_CODES = [
  'route-missing',
  'route-nexthop-wrong',
  'route-blackhole',
  'cidr-overlap',
  'ip-forward-off',
  'forward-drop',
  'netfilter-drop',
  'netfilter-reject',
  'nat-stale-endpoint',
  'nat-missing-service',
  'veth-detached',
  /** Beyond the list: a bridge sends a frame back out of the port it came in by only with hairpin on. */
  'hairpin-off',
  /** Beyond the list: the address is in a node's pod CIDR but no pod has it (a deleted pod), so nothing answers. */
  'address-unowned',
  'link-down',
  'bridge-nf-off',
  'netpol-denied',
  'mtu-exceeded',
  'unknown-datapath',
  'evidence-missing',
] as const
export type ReasonCode = (typeof REASON_CODES)[number]

export type Verdict = 'delivered' | 'dropped' | 'partial' | 'unknown'
export type HopStatus = 'ok' | 'fail' | 'unknown'
export type TraceProtocol = 'tcp' | 'udp' | 'icmp'

/** Where a hop's claim comes from: "node-1: ip -j route show table all" and the exact line. */
export interface TraceEvidence {
  source: string
  text: string
}

export interface Hop {
  /** 1-based, in path order; branch hops continue the numbering of the shared hops. */
  index: number
  /** The node the hop is on; null inside a pod or on the underlay between nodes. */
  node: string | null
  /** The device the packet is at ("eth0", "veth1", "cbr0"), or an address for an underlay next hop. */
  device: string | null
  /** What happens here, in one sentence. */
  action: string
  status: HopStatus
  /** For fail/unknown: why, as a reason code. */
  code?: ReasonCode
  evidence: TraceEvidence[]
  /** Short label for the path line ("pod-a eth0", "node-1 eth0", "10.100.0.3"). */
  label: string
}

export interface TraceReason {
  code: ReasonCode
  message: string
  /** The index of the hop that failed, null when no single hop is to blame. */
  hop: number | null
}

export type EndpointKind = 'pod' | 'service' | 'node' | 'external'

export interface TraceEndpoint {
  /** What the user typed. */
  input: string
  kind: EndpointKind
  /** "pod/default/web-1-1", "svc/default/web", "node/node-1", or null for an external address. */
  name: string | null
  ip: string
  port: number | null
  /** The node a pod runs on, or the node itself. */
  node: string | null
  /** How the endpoint was resolved (e.g. "Pod default/web-1-1 status.podIPs[0]"). */
  evidence: TraceEvidence[]
}

export interface DnatChoice {
  ip: string
  port: number | null
  probability: number
  /** The pod owning the address ("pod/default/web-1-1"), null when no pod has it. */
  endpoint: string | null
}

export interface TraceBranch {
  /** The endpoint ("pod/default/web-1-1", or the bare address when no pod owns it). */
  endpoint: string
  verdict: Verdict
  reason: TraceReason | null
  hops: Hop[]
}

export interface TraceResult {
  schemaVersion: typeof TRACE_SCHEMA_VERSION
  source: TraceEndpoint
  destination: TraceEndpoint
  protocol: TraceProtocol
  port: number | null
  /** The address family traced (added within schemaVersion 1): the destination's, or --ip-family's for a dual-stack Service or pod. */
  family: 4 | 6
  verdict: Verdict
  reason: TraceReason | null
  hops: Hop[]
  nat: {dnat: DnatChoice[]; masquerade: boolean}
  branches: TraceBranch[]
  /** With --probe only: what a real packet did, and whether that agrees with the verdict. */
  probe?: TraceProbe
}

export interface TraceProbe {
  /**
   * The real packet's outcome (`knet lab probe`'s): delivered, refused, timeout, error, or partial;
   * unknown when no packet could be sent (a source knet cannot probe from; detail says why).
   */
  observed: 'delivered' | 'refused' | 'timeout' | 'error' | 'partial' | 'unknown'
  /** null when the verdict is unknown (no prediction to compare) or no packet was sent. */
  agrees: boolean | null
  detail: string
  /**
   * Live clusters only: how the packet was sent — "exec nc in pod/NS/NAME (container C)", or
   * "ephemeral container knet-probe-ID (image IMG) in pod/NS/NAME: nc" when the pod had no tool,
   * "exec nc in knet's node pod NS/NAME on NODE (the node's network namespace)" from a node source;
   * null when none was sent. Absent with --lab (the lab's prober).
   */
  via?: string | null
}
