/**
 * `knet trace --probe` on a live cluster, end to end (root): a small lab plays the cluster, and
 * knet reaches it only through a kubeconfig — its node evidence through node pods, its real packet
 * through exec in the source pod, whose commands the stand-in API server runs inside that pod's
 * own network namespace. So the packet is real and crosses the lab's real datapath.
 *
 * Two servers: the lab's own API server (what `knet lab up` starts), and one started here over
 * the same lab whose exec hook pretends tools are missing from a pod (containerd's "executable
 * file not found"), to walk the fallback order down to the ephemeral debug container.
 */
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {netnsExecHook, startApiServer, type ApiServer} from '../../src/lib/apiserver/index.js'
import {openPodClient} from '../../src/lib/gather/cluster/pods.js'
import {breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import {loadLabPlan} from '../../src/lib/lab/probe.js'
import {probeFromPod} from '../../src/lib/trace/probe-exec.js'
import type {TraceResult} from '../../src/lib/trace/types.js'
import {knetAsync} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {LAB_TOOLS, tempLabRoot} from '../lib/lab/lab-harness.js'

const NAME = uniqueLabName('prb')
const IMAGE = 'docker.io/nicolaka/netshoot:v0.13'

describeNetns('knet trace --probe through the API of a live cluster (the lab) [root]', () => {
  let root = ''
  let env: NodeJS.ProcessEnv = {}
  let labKubeconfig = ''
  let kubeconfig = ''
  let server: ApiServer | undefined
  /** Pod name → binaries its container does not have (read by the exec hook on every exec). */
  const missing = new Map<string, string[]>()
  let traced: TraceResult | undefined
  // The first test reads the nodes through node pods; the rest read them straight from the lab's namespaces (faster; the probe is the same).
  const netns = (): string[] => ['--node-access', 'netns', '--netns-map', `node-1=knetlab-${NAME}-n1,node-2=knetlab-${NAME}-n2`]

  beforeAll(async () => {
    root = tempLabRoot(NAME)
    env = {KNET_LAB_DIR: root}
    labKubeconfig = join(root, `lab-${NAME}`, 'kubeconfig')
    const up = await knetAsync(['lab', 'up', '--name', NAME, '--nodes', '2', '--pods-per-node', '1'], {env})
    if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`)
    const plan = await loadLabPlan(NAME, root)
    const objects = (JSON.parse(readFileSync(join(root, `lab-${NAME}`, 'objects.json'), 'utf8')) as {items: unknown[]}).items
    const nodes = new Map(plan.nodes.map((n) => [n.name, n.netns]))
    const pods = new Map(plan.pods.map((p) => [`${p.namespace}/${p.name}`, p.netns]))
    server = await startApiServer({
      objects,
      tls: 'self-signed',
      token: 'probe-token',
      exec: netnsExecHook({netnsFor: (n) => nodes.get(n), podNetnsFor: (ns, n) => pods.get(`${ns}/${n}`), missing: (_ns, n) => missing.get(n) ?? []}),
    })
    kubeconfig = server.writeKubeconfig(join(root, 'kubeconfig-missing-tools'))
  })

  afterAll(async () => {
    await server?.close()
    if (!root) return
    await knetAsync(['lab', 'down', '--name', NAME], {env})
    rmSync(root, {recursive: true, force: true})
  })

  it('pod → pod: the real packet from the source pod (exec nc), delivered, agreeing; exit 0', async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'web-2-1', '--kubeconfig', labKubeconfig, '--probe', '-o', 'json'], {env})
    const j = JSON.parse(r.stdout) as TraceResult
    expect([r.status, j.verdict, j.probe]).toEqual([
      0,
      'delivered',
      {observed: 'delivered', agrees: true, detail: '1 attempt: 1 delivered; answered by web-2-1', via: 'exec nc in pod/default/web-1-1 (container responder)'},
    ])
    expect(r.stderr).toBe('')
    traced = {...j, probe: undefined}
  })

  it('with ip forwarding off on node-1, prediction and packet both say dropped, and agree; exit 1', async () => {
    await breakFault(NAME, 'ip-forward-off', {node: 'node-1', root})
    try {
      const r = await knetAsync(['trace', 'web-1-1', 'web-2-1', '--kubeconfig', labKubeconfig, ...netns(), '--probe', '-o', 'json'], {env})
      const j = JSON.parse(r.stdout) as TraceResult
      expect([r.status, j.verdict, j.reason?.code, j.probe]).toEqual([
        1,
        'dropped',
        'ip-forward-off',
        {observed: 'timeout', agrees: true, detail: '1 attempt: 1 timeout; no connection within 2 s', via: 'exec nc in pod/default/web-1-1 (container responder)'},
      ])
    } finally {
      await healFaults(NAME, 'ip-forward-off', {root})
    }
  })

  it("node → pod: the packet leaves node-1's own network namespace from knet's node pod there, delivered, agreeing; no pod is left", async () => {
    const r = await knetAsync(['trace', 'node/node-1', 'web-2-1', '--kubeconfig', labKubeconfig, '--probe', '-o', 'json'], {env})
    const j = JSON.parse(r.stdout) as TraceResult
    expect([r.status, j.verdict, j.probe?.observed, j.probe?.agrees, j.probe?.detail]).toEqual([0, 'delivered', 'delivered', true, '1 attempt: 1 delivered; answered by web-2-1'])
    expect(j.probe?.via).toMatch(/^exec nc in knet's node pod default\/knet-[0-9a-f]{8}-0-node-1 on node-1 \(the node's network namespace\)$/)
    expect(await openPodClient({kubeconfig: labKubeconfig, timeoutMs: 5000}).list(undefined, 'app.kubernetes.io/managed-by=knet')).toEqual([])
  })

  it('node → pod with ip forwarding off on the destination node: both say dropped (ip-forward-off) and agree; exit 1', async () => {
    await breakFault(NAME, 'ip-forward-off', {node: 'node-2', root})
    try {
      const r = await knetAsync(['trace', 'node/node-1', 'web-2-1', '--kubeconfig', labKubeconfig, '--probe', '-o', 'json'], {env})
      const j = JSON.parse(r.stdout) as TraceResult
      expect([r.status, j.verdict, j.reason?.code, j.probe?.observed, j.probe?.agrees, j.probe?.detail]).toEqual([1, 'dropped', 'ip-forward-off', 'timeout', true, '1 attempt: 1 timeout; no connection within 2 s'])
    } finally {
      await healFaults(NAME, 'ip-forward-off', {root})
    }
    expect(await openPodClient({kubeconfig: labKubeconfig, timeoutMs: 5000}).list(undefined, 'app.kubernetes.io/managed-by=knet')).toEqual([])
  })

  it('a pod without nc: the next tool (curl) sends it, and the skipped one is named', async () => {
    missing.set('web-1-1', ['nc'])
    const probe = await probeFromPod(traced as TraceResult, {client: openPodClient({kubeconfig, timeoutMs: 5000}), image: IMAGE, startTimeoutMs: 5000})
    expect(probe).toEqual({observed: 'delivered', agrees: true, detail: '1 attempt: 1 delivered; answered by web-2-1; skipped nc: not in the container', via: 'exec curl in pod/default/web-1-1 (container responder)'})
  })

  it('a pod with only bash: /dev/tcp, then /dev/udp for UDP', async () => {
    missing.set('web-1-1', ['nc', 'curl', 'wget'])
    const client = openPodClient({kubeconfig, timeoutMs: 5000})
    const tcp = await probeFromPod(traced as TraceResult, {client, image: IMAGE, startTimeoutMs: 5000})
    expect(tcp).toEqual({
      observed: 'delivered', agrees: true, via: 'exec bash in pod/default/web-1-1 (container responder)',
      detail: '1 attempt: 1 delivered; answered by web-2-1; skipped nc: not in the container; curl: not in the container; wget: not in the container',
    })
    const udp = await probeFromPod({...(traced as TraceResult), protocol: 'udp', port: 5353}, {client, image: IMAGE, startTimeoutMs: 5000})
    expect([udp.observed, udp.agrees, udp.via]).toEqual(['delivered', true, 'exec bash in pod/default/web-1-1 (container responder)'])
  })

  it('a pod with none of the tools gets an ephemeral debug container, reported as such; a later probe uses it again', async () => {
    missing.set('web-1-1', ['nc', 'curl', 'wget', 'bash', 'ping'])
    const r = await knetAsync(['trace', 'web-1-1', 'web-2-1', '--kubeconfig', kubeconfig, ...netns(), '--probe'])
    expect(r.status).toBe(0)
    const name = /ephemeral container (knet-probe-[0-9a-f]{8}) /.exec(r.stdout)?.[1] as string
    // The probe's four lines come last, before a blank line and the one-line hint to the full view (-v).
    expect(r.stdout.trimEnd().split('\n').slice(-6)).toEqual([
      'predicted:    DELIVERED',
      'real packet:  DELIVERED — 1 attempt: 1 delivered; answered by web-2-1; skipped nc: not in the container; curl: not in the container; wget: not in the container; bash: not in the container',
      `sent by:      ephemeral container ${name} (image ${IMAGE}) in pod/default/web-1-1: nc`,
      '              agrees',
      '',
      'every hop with all its evidence: -v',
    ])
    expect(r.stderr).toContain(`pod/default/web-1-1 has none of nc, curl, wget, bash: adding ephemeral container ${name} (${IMAGE})`)
    // It is on the pod for good (Kubernetes never removes one); its command stops it.
    const pod = await openPodClient({kubeconfig, timeoutMs: 5000}).get('default', 'web-1-1')
    expect(pod?.ephemeral).toEqual([{name, image: IMAGE, state: 'running'}])
    const patches = (): unknown[] => (server?.requests ?? []).filter((q) => q.method === 'PATCH').map((q) => [q.path, q.status])
    expect(patches()).toEqual([['/api/v1/namespaces/default/pods/web-1-1/ephemeralcontainers', 200]])
    // The next probe (what -o json would carry as probe.via) uses the same container again: nothing more is added for good.
    const again = await probeFromPod(traced as TraceResult, {client: openPodClient({kubeconfig, timeoutMs: 5000}), image: IMAGE, startTimeoutMs: 5000})
    expect([again.observed, again.agrees, again.via]).toEqual(['delivered', true, `ephemeral container ${name} (image ${IMAGE}, added by an earlier run) in pod/default/web-1-1: nc`])
    expect(patches()).toHaveLength(1)
  })
}, ['ip', 'nc', 'curl', 'bash', ...LAB_TOOLS])
