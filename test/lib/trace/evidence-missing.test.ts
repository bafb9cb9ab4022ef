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
import {breathe} from '../../helpers/breathe.js'
import {eachCommandTimedOut, eachNodeUnread, eachResourceUnread} from '../../helpers/timed-out.js'
import {ipvsSnapshot} from '../../fixtures/ipvs/snapshot.js'

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))

type Pair = [string, string, ('tcp' | 'udp' | 'icmp')?, string?]

/** Same node, across nodes in each protocol, and pod → Service (each Service of the lab's workload). */
const PAIRS: Pair[] = [
  ['web-1-1', 'web-1-2'],
  ['web-1-1', 'web-2-1'],
  ['web-2-2', 'web-1-2', 'udp'],
  ['web-2-1', 'web-1-1', 'icmp'],
  ['web-1-2', 'svc/default/web'],
  ['web-2-1', 'svc/default/dns', 'udp'],
]

function verdictOf(s: Snapshot, [src, dst, protocol, entryNode]: Pair): string {
  const t = traceSnapshot(s, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default'), ...(protocol ? {protocol} : {}), ...(entryNode ? {entryNode} : {})})
  return `${t.verdict}${t.reason ? ` ${t.reason.code}` : ''}`
}

/** Each pair traced on every one-command-timed-out copy: what changed other than to unknown (evidence-missing). */
async function wrongVerdicts(base: Snapshot, pairs: Pair[], before: string[]): Promise<{tried: number; wrong: string[]}> {
  const wrong: string[] = []
  let tried = 0
  for (const {label, snapshot} of eachCommandTimedOut(base)) {
    tried++
    await breathe()
    pairs.forEach((p, i) => {
      const v = verdictOf(snapshot, p)
      if (v !== before[i] && v !== 'unknown evidence-missing') wrong.push(`${label}: ${p.slice(0, 2).join(' ')} ${before[i]} → ${v}`)
    })
  }
  return {tried, wrong}
}

describe.each(['lab-vxlan.json.gz', 'lab-host-gw.json.gz', 'lab-ptp.json.gz', 'lab-calico-vxlan.json.gz', 'lab-vxlan-dual.json.gz', 'lab-aws-vpc.json.gz', 'lab-ipv6.json.gz'])('%s: partial evidence', (file) => {
  let base: Snapshot
  beforeAll(async () => {
    base = await readSnapshot(fixture(file))
  })

  it('every pair keeps its verdict or becomes unknown (evidence-missing); the baseline is all delivered', async () => {
    const before = PAIRS.map((p) => verdictOf(base, p))
    expect(before).toEqual(PAIRS.map(() => 'delivered'))
    const {tried, wrong} = await wrongVerdicts(base, PAIRS, before)
    expect(tried).toBeGreaterThan(30)
    expect(wrong).toEqual([])
  })

  /** Every pair on every partial copy: what is neither delivered (the baseline) nor unknown (evidence-missing). */
  async function wrongOnes(cases: Iterable<{label: string; snapshot: Snapshot}>): Promise<string[]> {
    const wrong: string[] = []
    for (const {label, snapshot} of cases) {
      await breathe()
      for (const p of PAIRS) {
        const v = verdictOf(snapshot, p)
        if (v !== 'delivered' && v !== 'unknown evidence-missing') wrong.push(`${label}: ${p.slice(0, 2).join(' ')} → ${v}`)
      }
    }
    return wrong
  }

  it('an optional API resource refused or timed out: every pair keeps its verdict or becomes unknown (evidence-missing)', async () => {
    expect(await wrongOnes(eachResourceUnread(base))).toEqual([])
  })

  it("a whole node's evidence missing (timed out, unreachable, left out): every pair keeps its verdict or becomes unknown (evidence-missing)", async () => {
    expect(await wrongOnes(eachNodeUnread(base))).toEqual([])
  })
})

/*
 * Services through kube-proxy's other modes, where a table or listing that timed out read as an
 * empty one: in nftables mode (the real lab, missing-nat applied) `nft -j list table ip kube-proxy`
 * timed out gave "dropped nat-missing-service" for Services node-2 delivers; in IPVS mode `ipset
 * save` timed out gave "partial nat-missing-service" (the KUBE-CLUSTER-IP match followed both ways,
 * the unmatched way reported as a fault). Found by this test; the node-1 `ip addr` case below also
 * gave "dropped veth-detached" for a source pod with no neighbour entry (its eth0 read as a pod veth).
 */
describe.each([
  {
    name: 'real nftables-mode lab with missing-nat (real-nft-missing-nat.json.gz)',
    load: () => readSnapshot(fixture('real-nft-missing-nat.json.gz')),
    pairs: [['web-1-1', 'svc/default/web-new'], ['web-2-1', 'svc/default/web-new'], ['web-1-1', 'svc/default/empty'], ['web-1-1', 'web-2-1'], ['web-2-1', 'svc/default/web']] as Pair[],
    expected: ['dropped nat-missing-service', 'delivered', 'dropped netfilter-reject', 'delivered', 'delivered'],
  },
  {
    name: 'IPVS-mode nodes (test/fixtures/ipvs)',
    load: async () => ipvsSnapshot(),
    pairs: [['web-1-1', 'svc/default/web'], ['web-2-1', '10.100.0.2:30080'], ['192.0.2.9', '10.100.0.2:30082', undefined, 'node-1'], ['node/node-1', 'svc/default/web'], ['web-1-1', 'web-2-2'], ['web-1-2', 'svc/default/empty']] as Pair[],
    expected: ['delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'dropped netfilter-reject'],
  },
])('$name: partial evidence', ({load, pairs, expected}) => {
  it('every Service and pod pair keeps its verdict or becomes unknown (evidence-missing)', async () => {
    const base = await load()
    const before = pairs.map((p) => verdictOf(base, p))
    expect(before).toEqual(expected)
    const {tried, wrong} = await wrongVerdicts(base, pairs, before)
    expect(tried).toBeGreaterThan(20)
    expect(wrong).toEqual([])
  })
})
