/**
 * `knet cleanup` through the built CLI against the stand-in API server holding pods as a killed
 * run leaves them (knet's labels, on two namespaces) next to pods it must never touch: one that
 * only claims to be managed by knet (no run id) and an ordinary workload.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, describe, expect, it} from 'vitest'
import {startApiServer, type ApiServer, type ApiServerOptions} from '../../src/lib/apiserver/index.js'
import {knetAsync} from '../helpers/cli.js'

const pod = (namespace: string, name: string, labels: Record<string, string>, node?: string): unknown => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {namespace, name, labels},
  spec: {...(node ? {nodeName: node} : {}), containers: [{name: 'c', image: 'i'}]},
  status: {phase: 'Running'},
})
const knetPod = (namespace: string, runId: string, node: string): unknown =>
  pod(namespace, `knet-${runId}-0-${node}`, {'app.kubernetes.io/managed-by': 'knet', 'knet.dev/run-id': runId}, node)

const objects = [
  knetPod('default', 'aaaa1111', 'node-1'),
  knetPod('kube-system', 'bbbb2222', 'node-2'),
  pod('default', 'claims-knet', {'app.kubernetes.io/managed-by': 'knet'}),
  pod('default', 'web', {app: 'web'}),
]

const dir = mkdtempSync(join(tmpdir(), 'knet-cleanup-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

let server: ApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(options: Partial<ApiServerOptions> = {}): Promise<{server: ApiServer; kc: string}> {
  server = await startApiServer({objects, tls: 'self-signed', token: 'tok', ...options})
  return {server, kc: server.writeKubeconfig(join(dir, `kc-${Math.random().toString(36).slice(2)}`))}
}

const names = (s: ApiServer): string[] => s.pods().map((p) => `${p.namespace}/${p.name}`)

describe('knet cleanup', () => {
  it('--dry-run lists the pods a killed run left and deletes nothing', async () => {
    const {server, kc} = await start()
    const r = await knetAsync(['cleanup', '--kubeconfig', kc, '--dry-run'])
    expect(r.stdout).toBe(
      'would delete pod default/knet-aaaa1111-0-node-1 (node node-1, run aaaa1111, Running)\nwould delete pod kube-system/knet-bbbb2222-0-node-2 (node node-2, run bbbb2222, Running)\n',
    )
    expect(r.stderr).toBe('2 knet pod(s) would be deleted (dry run: nothing was deleted)\n')
    expect(r.status).toBe(0)
    expect(server.requests.filter((q) => q.method !== 'GET')).toEqual([])
    expect(names(server)).toHaveLength(4)
  }, 600_000)

  it('deletes them, one namespace or all, one line each; never a pod without knet\'s run id', async () => {
    const {server, kc} = await start()
    const one = await knetAsync(['cleanup', '--kubeconfig', kc, '--debug-namespace', 'kube-system'])
    expect(one.stdout).toBe('deleted pod kube-system/knet-bbbb2222-0-node-2 (node node-2, run bbbb2222, Running)\n')
    expect(one.status).toBe(0)
    const all = await knetAsync(['cleanup', '--kubeconfig', kc, '--json'])
    expect(JSON.parse(all.stdout)).toEqual({
      schemaVersion: 1,
      dryRun: false,
      namespace: null,
      pods: [{namespace: 'default', name: 'knet-aaaa1111-0-node-1', node: 'node-1', runId: 'aaaa1111', phase: 'Running', action: 'deleted'}],
    })
    const again = await knetAsync(['cleanup', '--kubeconfig', kc])
    expect([again.stdout, again.stderr, again.status]).toEqual(['', 'no knet pods in any namespace\n', 0])
    expect(names(server)).toEqual(['default/claims-knet', 'default/web'])
  }, 600_000)

  it('a pod it may not delete: the line says why, exit 3', async () => {
    const {server, kc} = await start({faults: {forbid: [{verb: 'delete', resource: 'pods'}]}})
    const r = await knetAsync(['cleanup', '--kubeconfig', kc, '--debug-namespace', 'default'])
    expect(r.stdout).toMatch(/^could not delete pod default\/knet-aaaa1111-0-node-1 \(node node-1, run aaaa1111, Running\): not allowed to delete pods/)
    expect(r.stderr).toBe('0 knet pod(s) deleted, 1 could not be\n')
    expect(r.status).toBe(3)
    expect(names(server)).toHaveLength(4)
  }, 600_000)
})
