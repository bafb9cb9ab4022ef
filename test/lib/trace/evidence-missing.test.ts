/**
 * Absence of evidence is not evidence of absence: on real lab snapshots (fixtures/README.md), each
 * node command that succeeded is turned, one at a time, into one that timed out (what a loaded
 * node gives: `timed out after 10000 ms`, no output), and every pair traced again. The verdict
 * must stay what it was or become `unknown` with code evidence-missing: never a drop, a partial
 * delivery or another failure code that the missing output would have been needed to prove.
 *
 * Found on a real lab under two CI runs: node-2's `ip -j -d link show` timed out, and trace said
 * "dropped route-missing: node-2 has no VXLAN device with VNI 1" for a packet that was delivered.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import {eachCommandTimedOut} from '../../helpers/timed-out.js'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))

type Pair = [string, string, ('tcp' | 'udp' | 'icmp')?]

/** Same node, across nodes in each protocol, and pod → Service (each Service of the lab's workload). */
const PAIRS: Pair[] = [
  ['web-1-1', 'web-1-2'],
  ['web-1-1', 'web-2-1'],
  ['web-2-2', 'web-1-2', 'udp'],
  ['web-2-1', 'web-1-1', 'icmp'],
  ['web-1-2', 'svc/default/web'],
  ['web-2-1', 'svc/default/dns', 'udp'],
]

function verdictOf(s: Snapshot, [src, dst, protocol]: Pair): string {
  const t = traceSnapshot(s, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...(protocol ? {protocol} : {})})
  return `${t.verdict}${t.reason ? ` ${t.reason.code}` : ''}`
}

describe.each(['lab-vxlan.json.gz', 'lab-host-gw.json.gz', 'lab-ptp.json.gz', 'lab-calico-vxlan.json.gz', 'lab-vxlan-dual.json.gz'])('%s: one node command timed out', (file) => {
  let base: Snapshot
  beforeAll(async () => {
    base = await readSnapshot(fixture(file))
  })

  it('every pair keeps its verdict or becomes unknown (evidence-missing); the baseline is all delivered', () => {
    const before = PAIRS.map((p) => verdictOf(base, p))
    expect(before).toEqual(PAIRS.map(() => 'delivered'))
    const wrong: string[] = []
    let tried = 0
    for (const {node, id, snapshot} of eachCommandTimedOut(base)) {
      tried++
      PAIRS.forEach((p, i) => {
        const v = verdictOf(snapshot, p)
        if (v !== before[i] && v !== 'unknown evidence-missing') wrong.push(`${node} ${id} timed out: ${p.join(' ')} → ${v}`)
      })
    }
    expect(tried).toBeGreaterThan(30)
    expect(wrong).toEqual([])
  })
})
