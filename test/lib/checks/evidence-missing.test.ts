/**
 * doctor on partial evidence: on real lab snapshots (test/lib/trace/fixtures/README.md), each node
 * command that succeeded is turned, one at a time, into one that timed out. The report may lose
 * findings and gain skips and collection errors, but it must never gain an error or a warning: a
 * check that cannot read its evidence says so, it does not report the thing it could not see.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {breathe} from '../../helpers/breathe.js'
import {eachCommandTimedOut, eachNodeUnread, eachResourceUnread} from '../../helpers/timed-out.js'
import {ipvsSnapshot} from '../../fixtures/ipvs/snapshot.js'

const fixture = (name: string) => fileURLToPath(new URL(`../trace/fixtures/${name}`, import.meta.url))

const problems = (s: Snapshot): Set<string> =>
  new Set(
    runDoctor(s, CHECKS)
      .findings.filter((f) => f.severity === 'error' || f.severity === 'warn')
      .map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.name}`}: ${f.message}`),
  )

const LABS = ['lab-vxlan.json.gz', 'lab-host-gw.json.gz', 'lab-ptp.json.gz', 'lab-calico-vxlan.json.gz', 'lab-vxlan-dual.json.gz', 'lab-aws-vpc.json.gz', 'lab-ipv6.json.gz', 'real-nft-missing-nat.json.gz']

/*
 * real-nft-missing-nat: `nft -j list table ip kube-proxy` timed out read as a table with no
 * Services, and nat-missing-service reported every Service on that node. IPVS: test/fixtures/ipvs.
 */
describe.each([...LABS.map((file) => ({name: file, load: () => readSnapshot(fixture(file))})), {name: 'IPVS-mode nodes (test/fixtures/ipvs)', load: async () => ipvsSnapshot()}])('$name: partial evidence', ({load}) => {
  let base: Snapshot
  beforeAll(async () => {
    base = await load()
  })

  /** The errors and warnings doctor reports on some partial copy and not on the whole snapshot, and how many copies. */
  async function gainedProblems(cases: Iterable<{label: string; snapshot: Snapshot}>): Promise<{tried: number; gained: string[]}> {
    const before = problems(base)
    const gained: string[] = []
    let tried = 0
    for (const {label, snapshot} of cases) {
      tried++
      await breathe()
      for (const p of problems(snapshot)) if (!before.has(p)) gained.push(`${label} → ${p}`)
    }
    return {tried, gained}
  }

  it('doctor gains no error or warning (a check that needs the output skips the node, saying why)', async () => {
    const {tried, gained} = await gainedProblems(eachCommandTimedOut(base))
    expect(tried).toBeGreaterThan(30)
    expect(gained).toEqual([])
  })

  // real-nft-missing-nat with ServiceCIDRs unread: the assumed 10.96.0.0/12 held the lab's node subnet (the real range is a /16).
  it('doctor gains no error or warning when an optional API resource is refused or times out', async () => {
    expect((await gainedProblems(eachResourceUnread(base))).gained).toEqual([])
  })

  it("doctor gains no error or warning when a whole node's evidence is missing (timed out, unreachable, left out)", async () => {
    expect((await gainedProblems(eachNodeUnread(base))).gained).toEqual([])
  })
})
