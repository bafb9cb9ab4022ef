/**
 * trace over a captured dual-stack vxlan lab (fixtures/README.md): flannel's two VXLAN devices share
 * VNI and port, so the receiving node's device is the one of the outer header's family; and a
 * node's own IPv6 packet leaves with flannel-v6.1's address, which is also the subnet-router
 * anycast of cbr0's /64, so its reply is delivered locally.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {pathLine} from '../../../src/lib/render/trace-table.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = fileURLToPath(new URL('fixtures/lab-vxlan-dual.json.gz', import.meta.url))

function run(snapshot: Snapshot, src: string, dst: string, extra: Omit<TraceRequest, 'source' | 'destination'> = {}): TraceResult {
  return traceSnapshot(snapshot, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...extra})
}

const summary = (r: TraceResult) => `${r.verdict}${r.reason ? ` ${r.reason.code}` : ''}: ${pathLine(r.hops)}`

describe('trace over a captured dual-stack vxlan lab', () => {
  let snap: Snapshot
  beforeAll(async () => {
    snap = await readSnapshot(fixture)
  })

  it('each family is decapsulated on node-2 by its own VXLAN device: flannel.1 for IPv4, flannel-v6.1 for IPv6', () => {
    expect([4, 6].map((family) => summary(run(snap, 'web-1-1', 'web-2-2', {family: family as 4 | 6, protocol: 'tcp'})))).toEqual([
      'delivered: web-1-1 eth0 → veth1 → cbr0 → node-1 flannel.1 → 10.100.0.3 → node-2 flannel.1 → cbr0 → veth2 → web-2-2 eth0',
      'delivered: web-1-1 eth0 → veth1 → cbr0 → node-1 flannel-v6.1 → fd00:10:100::3 → node-2 flannel-v6.1 → cbr0 → veth2 → web-2-2 eth0',
    ])
  })

  it("a node's own IPv6 packet (from flannel-v6.1's fd00:10:244:1::, cbr0's subnet-router anycast too) gets its reply delivered locally", () => {
    // The evidence that makes it matter: the anycast route and the address, both on node-1.
    const node1 = snap.nodes.find((n) => n.name === 'node-1')
    const routes6 = node1?.results.find((r) => r.id === 'routes6')?.stdout ?? ''
    const addrs = node1?.results.find((r) => r.id === 'addrs')?.stdout ?? ''
    expect([routes6.includes('"type":"anycast","dst":"fd00:10:244:1::"'), addrs.includes('"local":"fd00:10:244:1::"')]).toEqual([true, true])
    const r = run(snap, 'node/node-1', 'web-2-2', {family: 6, protocol: 'tcp'})
    expect(summary(r)).toBe('delivered: node-1 → node-1 flannel-v6.1 → fd00:10:100::3 → node-2 flannel-v6.1 → cbr0 → veth2 → web-2-2 eth0')
    expect(run(snap, 'node/node-2', 'web-1-1', {family: 6, protocol: 'icmp'}).verdict).toBe('delivered')
  })
})
