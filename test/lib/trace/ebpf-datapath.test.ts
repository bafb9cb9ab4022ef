/**
 * A node whose pod traffic is forwarded by eBPF programs (Calico's eBPF dataplane, Cilium replacing
 * kube-proxy) is not walked through its routing tables and iptables, which those programs bypass:
 * trace stops at that node with unknown-datapath and names the evidence that showed it (the same
 * recognition, model/node-cni.ts, that makes doctor skip the node). On the captured ptp lab
 * (fixtures/README.md) with node-2's links edited as such a node's look.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))
const trace = (s: Snapshot, src: string, dst: string): TraceResult => traceSnapshot(s, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})

/** node's links with one more device, as `ip -j -d link show` prints it. */
function withLink(snapshot: Snapshot, node: string, link: Record<string, unknown>): Snapshot {
  const copy = structuredClone(snapshot)
  const r = copy.nodes.find((n) => n.name === node)?.results.find((x) => x.id === 'links')
  if (!r) throw new Error(`no links on ${node}`)
  r.stdout = JSON.stringify([...(JSON.parse(r.stdout) as unknown[]), link])
  return copy
}

const failing = (r: TraceResult) => [...r.hops, ...r.branches.flatMap((b) => b.hops)].filter((h) => h.status !== 'ok')

describe('trace on an eBPF datapath', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = await readSnapshot(fixture('lab-ptp.json.gz'))
  })

  it("Calico's eBPF dataplane (bpfin.cali) on the destination node: unknown-datapath there, naming the device; the source node is still walked", () => {
    const s = withLink(snap, 'node-2', {ifindex: 30, ifname: 'bpfin.cali', flags: ['UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', linkinfo: {info_kind: 'veth'}})
    const r = trace(s, 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code, r.reason?.message]).toEqual(['unknown', 'unknown-datapath', "node-2: Calico's eBPF dataplane, whose eBPF datapath is not in evidence"])
    const [hop] = failing(r)
    expect([hop?.node, hop?.evidence.map((e) => e.text)]).toEqual(['node-2', ['30: bpfin.cali veth']])
    // Pods of node-1 among themselves never meet node-2.
    expect(trace(s, 'web-1-1', 'web-1-2').verdict).toBe('delivered')
  })

  it('on the source node it is the first hop that stops; a node without such a device is walked as before', () => {
    const s = withLink(snap, 'node-1', {ifindex: 31, ifname: 'bpfnatin', flags: ['UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', linkinfo: {info_kind: 'veth'}})
    const r = trace(s, 'web-1-1', 'web-2-2')
    expect([r.verdict, r.reason?.code, failing(r).map((h) => h.node)]).toEqual(['unknown', 'unknown-datapath', ['node-1']])
    expect(trace(snap, 'web-1-1', 'web-2-2').verdict).toBe('delivered')
  })
})
