/**
 * knet against a real kube-apiserver (the real-mode lab: v1.36 with RBAC, its controllers writing
 * EndpointSlices), for what the stand-in server can only imitate: pagination with continue tokens
 * as the real server hands them out, the objects stored as it returns them, and RBAC decided by
 * the real authorizer for a ServiceAccount bound to exactly what `knet rbac` prints. One lab
 * (2 nodes, host-gw) for all of it; root only, and only with the programs `npm run k8s:build`
 * makes (see test/helpers/kubernetes.ts), otherwise skipped with the reason in the suite's name.
 */
import {execa} from 'execa'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {labPlanOf, readLabState} from '../../src/lib/lab/state.js'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../src/lib/snapshot/schema.js'
import {knetAsync} from '../helpers/cli.js'
import {kubernetesDir, kubernetesSkipReason} from '../helpers/kubernetes.js'
import {netnsSkipReason} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {waitFor} from '../helpers/wait.js'
import {tempLabRoot} from '../lib/lab/lab-harness.js'

const BIN = kubernetesDir()
const skipReason = netnsSkipReason ?? kubernetesSkipReason()
const title = 'knet against a real kube-apiserver: pagination and RBAC (host-gw, 2 nodes) [root]'
/** Services created on top of the lab's own, so every list needs several pages of 5. */
const EXTRA_SERVICES = 23
const NAMESPACE = 'knet-pages'

type Obj = {apiVersion?: string; kind?: string; metadata: {name: string; namespace?: string; managedFields?: unknown; annotations?: Record<string, string>}}

function key(o: Obj): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name
}

if (skipReason) {
  describe.skip(`${title} [skipped: ${skipReason}]`, () => it('runs', () => undefined))
} else {
  describe(title, () => {
    const name = uniqueLabName('rapi')
    const env: NodeJS.ProcessEnv = {KNET_KUBERNETES: BIN}
    let root = ''
    let work = ''
    let adminKubeconfig = ''
    let netnsMap = ''

    // Awaited, not execFileSync: a worker blocked in a row of kubectl runs misses vitest's replies (helpers/breathe.ts).
    const kubectl = async (args: string[], options: {input?: string; kubeconfig?: string} = {}): Promise<string> =>
      (await execa(join(BIN as string, 'kubectl'), ['--kubeconfig', options.kubeconfig ?? adminKubeconfig, ...args], {input: options.input ?? '', timeout: 120_000})).stdout
    const kubectlList = async (resource: string): Promise<Obj[]> => (JSON.parse(await kubectl(['get', resource, '-A', '-o', 'json'])) as {items: Obj[]}).items

    /** A kubeconfig for the lab's API server that authenticates as `serviceAccount` with a TokenRequest token. */
    const serviceAccountKubeconfig = async (serviceAccount: string): Promise<string> => {
      const token = (await kubectl(['create', 'token', serviceAccount, '-n', NAMESPACE, '--duration', '1h'])).trim()
      const config = parse(readFileSync(adminKubeconfig, 'utf8')) as {users: {name: string; user: Record<string, unknown>}[]}
      for (const u of config.users) u.user = {token}
      const path = join(work, `kubeconfig-${serviceAccount}`)
      writeFileSync(path, stringify(config), {mode: 0o600})
      return path
    }

    beforeAll(async () => {
      root = tempLabRoot(name)
      work = mkdtempSync(join(tmpdir(), 'knet-real-api-'))
      env.KNET_LAB_DIR = root
      const t0 = Date.now()
      const up = await knetAsync(['lab', 'up', '--name', name, '--nodes', '2', '--topology', 'host-gw'], {env})
      process.stderr.write(`real-api: lab up took ${Date.now() - t0} ms\n`)
      expect(up.status, up.stderr).toBe(0)
      const state = await readLabState(name, root)
      adminKubeconfig = state?.kubeconfig as string
      netnsMap = labPlanOf(state!).nodes.map((n) => `${n.name}=${n.netns}`).join(',')
      // Services with a selector: the EndpointSlice controller writes a slice for each as well.
      const services = Array.from({length: EXTRA_SERVICES}, (_, i) => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {name: `svc-${String(i).padStart(2, '0')}`, namespace: NAMESPACE, labels: {'knet-test': 'pages'}},
        spec: {selector: {app: `app-${i}`}, ports: [{name: 'http', port: 80, targetPort: 8080, protocol: 'TCP'}]},
      }))
      const namespace = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: NAMESPACE}}
      // create, not apply: no last-applied annotation, so the stored objects are the server's own.
      await kubectl(['create', '-f', '-'], {input: JSON.stringify({apiVersion: 'v1', kind: 'List', items: [namespace, ...services]})})
      await waitFor(`${EXTRA_SERVICES} EndpointSlices in ${NAMESPACE}`, async () => (JSON.parse(await kubectl(['get', 'endpointslices', '-n', NAMESPACE, '-o', 'json'])) as {items: unknown[]}).items.length === EXTRA_SERVICES, {timeoutMs: 60_000, intervalMs: 500})
    }, 900_000)

    afterAll(async () => {
      if (root) {
        await knetAsync(['lab', 'down', '--name', name], {env})
        rmSync(root, {recursive: true, force: true})
      }
      if (work) rmSync(work, {recursive: true, force: true})
    }, 600_000)

    it('snapshot --chunk-size 5 reads every object exactly once, page by page, as the server returns it', async () => {
      const out = join(work, 'paged.json')
      const r = await knetAsync(['snapshot', '--kubeconfig', adminKubeconfig, '--chunk-size', '5', '--node-access', 'none', '-o', out], {env})
      expect(r.status, r.stderr).toBe(0)
      const snapshot = await readSnapshot(out)
      expect(snapshot.collectionErrors).toEqual([])
      const objects = snapshot.cluster?.objects as NonNullable<Snapshot['cluster']>['objects']
      const lists: [string, unknown[] | undefined][] = [
        ['nodes', objects.nodes],
        ['pods', objects.pods],
        ['services', objects.services],
        ['endpointslices', objects.endpointSlices],
        ['namespaces', objects.namespaces],
        ['daemonsets', objects.daemonSets],
        ['servicecidrs', objects.serviceCIDRs],
      ]
      for (const [resource, list] of lists) {
        const got = (list as Obj[]).map(key)
        expect(new Set(got).size, `${resource} listed twice`).toBe(got.length)
        expect(got.sort(), resource).toEqual((await kubectlList(resource)).map(key).sort())
      }
      expect(objects.services.length).toBeGreaterThan(EXTRA_SERVICES)
      expect(objects.endpointSlices.length).toBeGreaterThan(EXTRA_SERVICES)
      // Each page of a required list is one progress line: 5, 10, …, then the rest.
      for (const [resource, total] of [
        ['services', objects.services.length],
        ['endpointslices', objects.endpointSlices.length],
      ] as const) {
        const pages = [...r.stderr.matchAll(new RegExp(`listing ${resource}: (\\d+)`, 'g'))].map((m) => Number(m[1]))
        expect(pages, resource).toEqual(Array.from({length: Math.ceil(total / 5)}, (_, i) => Math.min(total, (i + 1) * 5)))
      }
      // The Services as the server returns them: kubectl's copy, less the per-item kind and
      // apiVersion kubectl adds and the managedFields knet drops.
      const stored = (objects.services as Obj[]).filter((s) => s.metadata.namespace === NAMESPACE)
      const served = (await kubectlList('services'))
        .filter((s) => s.metadata.namespace === NAMESPACE)
        .map(({apiVersion: _a, kind: _k, ...rest}) => ({...rest, metadata: {...rest.metadata, managedFields: undefined}}))
      expect(JSON.parse(JSON.stringify(stored))).toEqual(JSON.parse(JSON.stringify(served)))
      // The Service range kube-apiserver itself wrote from --service-cluster-ip-range.
      expect(objects.serviceCIDRs).toEqual([expect.objectContaining({metadata: expect.objectContaining({name: 'kubernetes'}), spec: {cidrs: ['10.96.0.0/16']}})])
    }, 600_000)

    describe('RBAC, decided by the real authorizer', () => {
      const role = `knet-reader-${name}`
      let allowed = ''
      let refused = ''

      beforeAll(async () => {
        const printed = await knetAsync(['rbac', '--name', role])
        expect(printed.status, printed.stderr).toBe(0)
        await kubectl(['create', '-f', '-'], {input: printed.stdout})
        await kubectl(['create', 'serviceaccount', 'knet-allowed', '-n', NAMESPACE])
        await kubectl(['create', 'serviceaccount', 'knet-refused', '-n', NAMESPACE])
        await kubectl(['create', 'clusterrolebinding', role, `--clusterrole=${role}`, `--serviceaccount=${NAMESPACE}:knet-allowed`])
        // The server holds exactly the rules knet rbac printed.
        const rules = (JSON.parse(await kubectl(['get', 'clusterrole', role, '-o', 'json'])) as {rules: unknown[]}).rules
        expect(rules).toEqual((parse(printed.stdout) as {rules: unknown[]}).rules)
        allowed = await serviceAccountKubeconfig('knet-allowed')
        refused = await serviceAccountKubeconfig('knet-refused')
        // RBAC is read from the authorizer's cache: wait until it knows the new binding.
        await waitFor('the binding to take effect', async () => (await kubectl(['auth', 'can-i', 'list', 'servicecidrs.networking.k8s.io'], {kubeconfig: allowed})).trim() === 'yes', {timeoutMs: 30_000, intervalMs: 250})
      }, 600_000)

      afterAll(async () => {
        if (!adminKubeconfig) return
        for (const args of [['delete', 'clusterrolebinding', role], ['delete', 'clusterrole', role]]) {
          try {
            await kubectl([...args, '--ignore-not-found'])
          } catch {
            // The lab goes down next anyway.
          }
        }
      })

      it('a ServiceAccount bound to exactly `knet rbac` snapshots with no 403 and no collection error', async () => {
        const out = join(work, 'sa.json')
        const r = await knetAsync(['snapshot', '--kubeconfig', allowed, '--chunk-size', '5', '--node-access', 'none', '-o', out], {env})
        expect(r.status, r.stderr).toBe(0)
        expect(r.stderr).not.toMatch(/forbidden|not allowed|403/i)
        const snapshot = await readSnapshot(out)
        expect(snapshot.collectionErrors).toEqual([])
        expect(snapshot.cluster?.errors).toEqual([])
        expect(snapshot.cluster?.objects.serviceCIDRs).toHaveLength(1)
      }, 600_000)

      it('…and doctor, reading the nodes through their namespaces, finds only the test Services that select no pod', async () => {
        const r = await knetAsync(['doctor', '--kubeconfig', allowed, '--node-access', 'netns', '--netns-map', netnsMap, '-o', 'json'], {env})
        const report = JSON.parse(r.stdout) as {findings: {check: string; severity: string; message: string}[]; collectionErrors: unknown[]}
        expect(report.collectionErrors).toEqual([])
        // The lab itself is healthy (lab-real.test.ts); the Services added here select pods that do not exist.
        expect(report.findings.filter((f) => f.severity !== 'ok').map((f) => `${f.severity} ${f.check}: ${f.message}`)).toEqual(
          Array.from({length: EXTRA_SERVICES}, (_, i) => `warn service-selector-matches-nothing: selector app=app-${i} matches none of the 0 pods in namespace ${NAMESPACE}`),
        )
        expect(r.status, r.stderr).toBe(0)
      }, 450_000)

      it('a ServiceAccount without the binding is refused by the server, and knet says so in one line (exit 3)', async () => {
        for (const command of [
          ['snapshot', '--kubeconfig', refused, '--node-access', 'none', '-o', join(work, 'refused.json')],
          ['doctor', '--kubeconfig', refused, '--node-access', 'none'],
        ]) {
          const r = await knetAsync(command, {env})
          expect(r.status, r.stderr).toBe(3)
          const lines = r.stderr.trim().split('\n')
          expect(lines.at(-1)).toBe('knet: not allowed to list nodes at the cluster scope (run `knet rbac` for the ClusterRole knet needs)')
          expect(r.stdout).toBe('')
        }
      }, 600_000)
    })
  })
}
