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
import {eachCommandTimedOut} from '../../helpers/timed-out.js'

const fixture = (name: string) => fileURLToPath(new URL(`../trace/fixtures/${name}`, import.meta.url))

const problems = (s: Snapshot): Set<string> =>
  new Set(
    runDoctor(s, CHECKS)
      .findings.filter((f) => f.severity === 'error' || f.severity === 'warn')
      .map((f) => `${f.severity} ${f.check} ${f.node ?? `${f.subject.kind}/${f.subject.name}`}: ${f.message}`),
  )

describe.each(['lab-vxlan.json.gz', 'lab-host-gw.json.gz', 'lab-ptp.json.gz', 'lab-calico-vxlan.json.gz', 'lab-vxlan-dual.json.gz'])('%s: one node command timed out', (file) => {
  let base: Snapshot
  beforeAll(async () => {
    base = await readSnapshot(fixture(file))
  })

  it('doctor gains no error or warning (a check that needs the output skips the node, saying why)', () => {
    const before = problems(base)
    const gained: string[] = []
    let tried = 0
    for (const {node, id, snapshot} of eachCommandTimedOut(base)) {
      tried++
      for (const p of problems(snapshot)) if (!before.has(p)) gained.push(`${node} ${id} timed out → ${p}`)
    }
    expect(tried).toBeGreaterThan(30)
    expect(gained).toEqual([])
  })
})
