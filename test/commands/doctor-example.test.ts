/**
 * README's main command: `knet doctor --snapshot examples/lab-incident.json.gz` must keep finding
 * exactly the three injected faults (examples/regenerate.sh), with their evidence, and exit 1.
 */
import {CHECK_IDS} from '../../src/lib/checks/registry.js'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {knetAsync} from '../helpers/cli.js'

const EXAMPLE = fileURLToPath(new URL('../../examples/lab-incident.json.gz', import.meta.url))

describe('the bundled example snapshot', () => {
  it('doctor finds exactly the injected faults, with evidence, and exits 1', async () => {
    const r = await knetAsync(['doctor', '--snapshot', EXAMPLE, '-o', 'json'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(1)
    const report = JSON.parse(r.stdout) as {
      summary: unknown
      findings: {check: string; node?: string; subject: {name: string}; evidence: {source: string; text: string}[]}[]
      collectionErrors: unknown[]
    }
    expect(report.summary).toEqual({error: 8, warn: 0, info: 0, skipped: 0})
    expect(report.collectionErrors).toEqual([])
    expect(report.findings.map((f) => `${f.check} ${f.node} ${f.subject.name}`)).toEqual([
      'bridge-nf-call-off node-2 node-2',
      ...['web', 'web-np'].flatMap((svc) => ['node-1', 'node-2', 'node-3'].map((n) => `nat-stale-endpoint ${n} ${svc}`)),
      'route-missing node-1 node-1',
    ])
    const route = report.findings.find((f) => f.check === 'route-missing')
    expect(route?.evidence).toEqual([{source: 'node-1: ip -j route show table all', text: 'default via 10.100.0.1 dev eth0'}])
    const stale = report.findings.find((f) => f.check === 'nat-stale-endpoint')
    expect(stale?.evidence[0]?.text).toMatch(/^-A KUBE-SEP-\w+ -p tcp .* -j DNAT --to-destination 10\.244\.2\.3:8080$/)
  })

  it('the human table ends with the one-line summary', async () => {
    const r = await knetAsync(['doctor', '--snapshot', EXAMPLE], {env: {COLUMNS: '200'}})
    expect(r.status).toBe(1)
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`8 errors, 0 warnings, 0 info, 0 skipped (${CHECK_IDS.length} checks on 3 nodes)`)
  })
})
