/**
 * Issue 3's end-to-end criteria, through the real CLI and unmodified client-node, against the
 * stand-in API server (not a real cluster): capture, every error's one line and exit code 3, a
 * forbidden optional resource recorded without stopping the run, and --objects ≡ API.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, describe, expect, it} from 'vitest'
import {objectsFromYamlFile} from '../../src/lib/apiserver/load.js'
import {startApiServer, type ApiServer, type ApiServerOptions} from '../../src/lib/apiserver/server.js'
import {buildClusterModel} from '../../src/lib/model/cluster.js'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import {knetAsync, type CliResult} from '../helpers/cli.js'

const FIXTURES = join(import.meta.dirname, '../fixtures/cluster')
const dir = mkdtempSync(join(tmpdir(), 'knet-snapcl-'))
let server: ApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

let n = 0
async function serve(file: string, options: Partial<ApiServerOptions> = {}): Promise<string> {
  server = await startApiServer({objects: objectsFromYamlFile(join(FIXTURES, file)), tls: 'self-signed', token: 't0ken', ...options})
  return server.writeKubeconfig(join(dir, `kc-${n++}`))
}

/** --timeout last but for `extra` (the timeout test replaces it); 30s, a hang detector: the stand-in server shares its process with the test. */
function snapshotArgs(kubeconfig: string, out: string, extra: string[] = []): string[] {
  return ['snapshot', '--kubeconfig', kubeconfig, '--node-access', 'none', '-o', out, '--timeout', '30s', ...extra]
}

function expectOneLine(r: CliResult, code: number, pattern: RegExp): void {
  expect(r.status).toBe(code)
  const lines = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('knet: '))
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('knet snapshot --kubeconfig against the stand-in API server', () => {
  it('captures the 3-node fixture cluster', async () => {
    const kc = await serve('kubeadm-3node.yaml')
    const out = join(dir, 'three.json.gz')
    const r = await knetAsync([...snapshotArgs(kc, out), '--json'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({clusterSource: 'api', objects: {nodes: 3, pods: 6, services: 4}, collectionErrors: []})
    const snap = await readSnapshot(out)
    const model = buildClusterModel(snap.cluster!)
    expect(model.nodes.map((x) => x.name)).toEqual(['cp-1', 'worker-1', 'worker-2'])
    expect(server?.requests.some((q) => q.path.includes('secrets'))).toBe(false)
    expect(server?.requests.filter((q) => q.path.endsWith('/pods')).every((q) => q.query.limit === '500')).toBe(true)
  })

  it('401: one line suggesting re-authentication, exit 3', async () => {
    const kc = await serve('kubeadm-3node.yaml', {faults: {status401: true}})
    expectOneLine(await knetAsync(snapshotArgs(kc, join(dir, 'x.json'))), 3, /rejected.*re-?authenticat/i)
  })

  it('403 on pods: names the verb and resource and points to knet rbac, exit 3', async () => {
    const kc = await serve('kubeadm-3node.yaml', {faults: {forbid: [{verb: 'list', resource: 'pods'}]}})
    expectOneLine(await knetAsync(snapshotArgs(kc, join(dir, 'x.json'))), 3, /list.*pods.*knet rbac/)
  })

  it('403 on NetworkPolicies: the snapshot is still written with the collection error recorded', async () => {
    const kc = await serve('kubeadm-3node.yaml', {faults: {forbid: [{verb: 'list', resource: 'networkpolicies'}]}})
    const out = join(dir, 'netpol403.json')
    const r = await knetAsync(snapshotArgs(kc, out))
    expect(r.status).toBe(3)
    expect(r.stderr).toMatch(/wrote .*netpol403\.json/)
    const snap = await readSnapshot(out)
    expect(snap.cluster?.objects.pods).toHaveLength(6)
    expect(snap.collectionErrors).toEqual([expect.objectContaining({source: 'networkpolicies', kind: 'forbidden'})])
  })

  it('unreachable: names the server URL, exit 3', async () => {
    const kc = await serve('kubeadm-3node.yaml')
    const url = server!.url
    await server!.close()
    server = undefined
    expectOneLine(await knetAsync(snapshotArgs(kc, join(dir, 'x.json'))), 3, new RegExp(url.replace(/[.:/]/g, '\\$&')))
  })

  it('TLS failure (server not signed by the trusted CA), exit 3', async () => {
    server = await startApiServer({objects: objectsFromYamlFile(join(FIXTURES, 'kubeadm-3node.yaml')), tls: 'self-signed', token: 't'})
    const kc = server.writeKubeconfig(join(dir, 'kc-wrong'), {trust: 'wrong-ca'})
    expectOneLine(await knetAsync(snapshotArgs(kc, join(dir, 'x.json'))), 3, /TLS|certificate/i)
  })

  it('timeout: a slow API answers after --timeout, exit 3', async () => {
    const kc = await serve('kubeadm-3node.yaml', {faults: {delayMs: {nodes: 10_000}}})
    expectOneLine(await knetAsync([...snapshotArgs(kc, join(dir, 'x.json')).slice(0, -2), '--timeout', '1s']), 3, /timed out|timeout/i)
  })

  it('a missing kubeconfig file is bad input, exit 2', async () => {
    expectOneLine(await knetAsync(snapshotArgs(join(dir, 'does-not-exist'), join(dir, 'x.json'))), 2, /does-not-exist/)
  })
})

describe('--objects yields the same model as the API for the same objects', () => {
  it('kubectl get … -A -o yaml dump vs the API serving those objects', async () => {
    const dump = join(FIXTURES, 'kubectl-get-all.yaml')
    const fromFile = join(dir, 'objects.json')
    const viaFile = await knetAsync(['snapshot', '--objects', dump, '--node-access', 'none', '-o', fromFile])
    expect(viaFile.status).toBe(0)
    const kc = await serve('kubectl-get-all.yaml')
    const fromApi = join(dir, 'api.json')
    const viaApi = await knetAsync(snapshotArgs(kc, fromApi))
    expect(viaApi.stderr).not.toMatch(/^knet: /m)
    const a = buildClusterModel((await readSnapshot(fromFile)).cluster!)
    const b = buildClusterModel((await readSnapshot(fromApi)).cluster!)
    expect(a.nodes.length).toBeGreaterThan(0)
    const core = (m: typeof a) => ({nodes: m.nodes, pods: m.pods, services: m.services, endpointSlices: m.endpointSlices, networkPolicies: m.networkPolicies})
    expect(core(a)).toEqual(core(b))
  })

  it('reads from stdin with -', async () => {
    const out = join(dir, 'stdin.json')
    const yaml = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: n1}\n  spec: {podCIDR: 10.244.1.0/24}\n'
    const r = await knetAsync(['snapshot', '--objects', '-', '--node-access', 'none', '-o', out], {input: yaml})
    expect(r.status).toBe(0)
    expect((await readSnapshot(out)).cluster?.objects.nodes).toHaveLength(1)
  })
})
