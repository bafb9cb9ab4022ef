/** knet doctor as a user runs it (the built CLI), on snapshot files made from the check fixtures. */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'
import {parse} from 'yaml'
import {CHECK_IDS} from '../../src/lib/checks/registry.js'
import {snapshotOf} from '../lib/checks/fixtures.js'
import {SCENARIOS} from '../lib/checks/scenarios.js'
import {knetAsync} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'knet-doctor-'))
const file = (name: string) => join(dir, name)

beforeAll(() => {
  const write = (name: string, value: unknown) => writeFileSync(file(name), JSON.stringify(value))
  write('healthy.json', snapshotOf())
  write('nexthop.json', (SCENARIOS['route-nexthop-wrong'] as () => unknown)())
  // A warning-level fault plus a node whose evidence could not be gathered.
  const partial = (SCENARIOS['rp-filter-strict'] as () => ReturnType<typeof snapshotOf>)()
  partial.collectionErrors.push({node: 'node-2', source: 'node-access', kind: 'not-found', message: 'no network namespace mapped for node node-2 (--netns-map)'})
  write('partial.json', partial)
  writeFileSync(file('corrupt.json'), '{"kind": "KnetSnapshot", "schemaVersion": 1, "nodes": [')
})

afterAll(() => rmSync(dir, {recursive: true, force: true}))

interface DoctorJson {
  schemaVersion: number
  summary: {error: number; warn: number; info: number; skipped: number}
  findings: {check: string; severity: string; subject: {kind: string; name: string}; node?: string; evidence: {source: string; text: string}[]}[]
  skipped: {check: string; reason: string}[]
  collectionErrors: {node?: string; source: string; message: string}[]
}

describe('knet doctor', () => {
  test('a healthy snapshot: exit 0, the JSON contract, nothing on stderr', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('healthy.json'), '-o', 'json'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const doc = JSON.parse(r.stdout) as DoctorJson
    expect(doc).toEqual({schemaVersion: 1, summary: {error: 0, warn: 0, info: 0, skipped: 0}, findings: [], skipped: [], collectionErrors: []})
  })

  test('a fault: exit 1, the finding names the node and quotes the evidence', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('nexthop.json'), '-o', 'json'])
    expect(r.status).toBe(1)
    const doc = JSON.parse(r.stdout) as DoctorJson
    expect(doc.summary).toEqual({error: 1, warn: 0, info: 0, skipped: 0})
    expect(doc.findings[0]).toEqual(
      expect.objectContaining({check: 'route-nexthop-wrong', severity: 'error', subject: {kind: 'node', name: 'node-1'}, node: 'node-1'}),
    )
    expect(doc.findings[0]?.evidence).toContainEqual({source: 'node-1: bridge -j fdb show', text: '0a:00:00:00:03:00 dev flannel.1 dst 10.100.0.9 self permanent'})
  })

  test('--fail-on decides the exit code', async () => {
    expect((await knetAsync(['doctor', '--snapshot', file('nexthop.json'), '--fail-on', 'none'])).status).toBe(0)
    expect((await knetAsync(['doctor', '--snapshot', file('partial.json'), '--fail-on', 'warn', '-o', 'json'])).status).toBe(1)
  })

  test('--only and --skip select checks; the table summary counts them', async () => {
    const only = await knetAsync(['doctor', '--snapshot', file('nexthop.json'), '--only', 'ip-forward-off,bridge-down'])
    expect(only.status).toBe(0)
    expect(only.stdout).toBe('No findings.\n\n0 errors, 0 warnings, 0 info, 0 skipped (2 checks on 1 node)\n')
    const skip = await knetAsync(['doctor', '--snapshot', file('nexthop.json'), '--skip', 'route-nexthop-wrong'])
    expect(skip.status).toBe(0)
    expect(skip.stdout).toContain(`(${CHECK_IDS.length - 1} checks on 1 node)`)
  })

  test('an unknown check id is a usage error listing the valid ones', async () => {
    for (const flag of ['--only', '--skip']) {
      const r = await knetAsync(['doctor', '--snapshot', file('healthy.json'), flag, 'route-missing,no-such-check'])
      expect(r.status).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe(`knet: ${flag}: unknown or invalid "no-such-check"; valid: ${CHECK_IDS.join(', ')}\n`)
    }
  })

  test('a corrupt snapshot: exit 2, one line', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('corrupt.json')])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^knet: .*corrupt\.json is not a knet snapshot: invalid JSON/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  test('collection errors: exit 3, and the findings are still checked and printed', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('partial.json'), '-o', 'json'])
    expect(r.status).toBe(3)
    const doc = JSON.parse(r.stdout) as DoctorJson
    expect(doc.findings.map((f) => [f.check, f.node])).toEqual([['rp-filter-strict', 'node-1']])
    expect(doc.collectionErrors).toEqual([{node: 'node-2', source: 'node-access', message: 'no network namespace mapped for node node-2 (--netns-map)'}])
    const table = await knetAsync(['doctor', '--snapshot', file('partial.json')])
    expect(table.status).toBe(3)
    expect(table.stdout).toContain('COLLECTION ERRORS (1)\n  node-2 node-access: no network namespace mapped for node node-2 (--netns-map)')
    expect(table.stdout.trim().split('\n').at(-1)).toBe(`0 errors, 1 warning, 0 info, 0 skipped (${CHECK_IDS.length} checks on 1 node); 1 collection error`)
  })

  test('--nodes limits node evidence (and its collection errors) to the named nodes', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('partial.json'), '--nodes', 'node-2', '-o', 'json'])
    const doc = JSON.parse(r.stdout) as DoctorJson
    expect(doc.findings).toEqual([])
    expect(doc.collectionErrors).toHaveLength(1)
    expect(doc.skipped.map((s) => s.reason)).toContain('no node datapath evidence in the snapshot (gathered with --node-access none?)')
    expect(r.status).toBe(3)
  })

  test('yaml, junit and sarif outputs', async () => {
    const yaml = await knetAsync(['doctor', '--snapshot', file('nexthop.json'), '-o', 'yaml'])
    expect((parse(yaml.stdout) as DoctorJson).summary.error).toBe(1)
    const junit = await knetAsync(['doctor', '--snapshot', file('nexthop.json'), '-o', 'junit'])
    expect(junit.stdout).toMatch(new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<testsuites name="knet doctor" tests="${CHECK_IDS.length}" failures="1"`))
    const sarif = JSON.parse((await knetAsync(['doctor', '--snapshot', file('nexthop.json'), '-o', 'sarif'])).stdout) as {version: string; runs: {results: {level: string}[]}[]}
    expect(sarif.version).toBe('2.1.0')
    expect(sarif.runs[0]?.results.map((x) => x.level)).toEqual(['error'])
  })

  test('--list prints the catalogue; -o json gives every field', async () => {
    const text = await knetAsync(['doctor', '--list'])
    expect(text.status).toBe(0)
    expect(text.stdout.split('\n')[0]).toBe('CHECK                             SEVERITY  TITLE')
    const json = JSON.parse((await knetAsync(['doctor', '--list', '-o', 'json'])).stdout) as {schemaVersion: number; checks: {id: string; remediation: string}[]}
    expect(json.checks.map((c) => c.id)).toEqual(CHECK_IDS)
  })

  test('--snapshot with live-source flags is a usage error; so is a lab that does not exist', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('healthy.json'), '--objects', 'x.yaml'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('knet: --snapshot cannot be combined with --objects (a snapshot already holds the cluster and node evidence)\n')
    const lab = await knetAsync(['doctor', '--lab', 'demo'], {env: {KNET_LAB_DIR: file('no-labs-here')}})
    expect(lab.status).toBe(2)
    expect(lab.stderr).toBe('knet: no lab named demo (start one with "knet lab up --name demo")\n')
  })

  test('live from an objects file: API checks run, node checks say why they were skipped', async () => {
    const fixture = new URL('../fixtures/cluster/kubeadm-3node.yaml', import.meta.url).pathname
    const r = await knetAsync(['doctor', '--objects', fixture, '--node-selector', 'kubernetes.io/hostname=worker-1', '-o', 'json'])
    expect(r.status).toBe(0)
    const doc = JSON.parse(r.stdout) as DoctorJson
    expect(doc.findings.map((f) => [f.check, f.subject.name])).toEqual([['netpol-isolates', 'default-deny-ingress']])
    expect(doc.skipped).toContainEqual({check: 'ip-forward-off', reason: 'no node datapath evidence in the snapshot (gathered with --node-access none?)'})
    expect(doc.skipped).toContainEqual({check: 'pod-ip-outside-node-cidr', reason: "calico allocates pod IPs from its own IPAM, not from the nodes' spec.podCIDRs"})
  })
})
