/**
 * -n/--namespace as kubectl has it, end to end against the stand-in API server: without -n a bare
 * NAME is in the kubeconfig context's namespace; -n overrides it.
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse, stringify} from 'yaml'
import {startApiServer, type ApiServer} from '../../src/lib/apiserver/index.js'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import {knetAsync} from '../helpers/cli.js'

const hostGw = fileURLToPath(new URL('../lib/trace/fixtures/lab-host-gw.json.gz', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'knet-trace-ns-'))
let server: ApiServer | undefined
let kubeconfig = ''

beforeAll(async () => {
  const cluster = (await readSnapshot(hostGw)).cluster
  if (!cluster) throw new Error('the fixture has no cluster objects')
  // A snapshot keeps items as list responses give them, without apiVersion and kind.
  const typed = (apiVersion: string, kind: string, items: readonly unknown[]) => items.map((o) => ({apiVersion, kind, ...(o as object)}))
  const objects = [
    ...typed('v1', 'Node', cluster.objects.nodes),
    ...typed('v1', 'Pod', cluster.objects.pods),
    ...typed('v1', 'Service', cluster.objects.services),
    ...typed('discovery.k8s.io/v1', 'EndpointSlice', cluster.objects.endpointSlices),
  ]
  server = await startApiServer({objects, tls: 'self-signed', token: 'tok'})
  // The context names a namespace, as `kubectl config set-context --current --namespace shop` leaves it.
  const path = server.writeKubeconfig(join(dir, 'kubeconfig'), {token: 'tok'})
  const doc = parse(readFileSync(path, 'utf8')) as {contexts: {context: Record<string, string>}[]}
  for (const c of doc.contexts) c.context.namespace = 'shop'
  writeFileSync(path, stringify(doc), {mode: 0o600})
  kubeconfig = path
})
afterAll(async () => {
  await server?.close()
  rmSync(dir, {recursive: true, force: true})
})

describe('knet trace -n/--namespace', () => {
  it("without -n a bare NAME is in the context's namespace", async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'web-2-2', '--kubeconfig', kubeconfig, '--node-access', 'none', '-o', 'json'])
    expect(r.stderr).toBe('knet: no pod shop/web-2-2 in the cluster state (check the name and -n/--namespace)\n')
    expect(r.status).toBe(2)
  })

  it('-n overrides the context', async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'web-2-2', '--kubeconfig', kubeconfig, '--node-access', 'none', '-o', 'json', '-n', 'default'])
    expect(r.stderr).toBe('')
    expect((JSON.parse(r.stdout) as {source: {name?: string}}).source).toMatchObject({kind: 'pod', name: 'pod/default/web-1-1'})
  })

  it('-n is checked as a namespace name', async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'web-2-2', '--kubeconfig', kubeconfig, '-n', 'Not_A_Namespace'])
    expect(r).toMatchObject({status: 2, stderr: 'knet: --namespace: "Not_A_Namespace" is not a namespace name\n'})
  })
})
