/**
 * Node evidence through pods, at the library level against the stand-in server: the pod knet puts
 * on a node (exactly its spec, and that it is gone afterwards), agent mode's choice of pod per node
 * and its refusals, and — as root — the netns exec hook playing the runtime, so a catalogue command
 * through a pod returns the namespace's real state and a missing binary reads as "unavailable".
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, describe, expect, it} from 'vitest'
import {netnsExecHook, startApiServer, type ApiServer, type ApiServerOptions, type ExecContext, type ExecHook} from '../../../../src/lib/apiserver/index.js'
import {openPodClient, type PodClient} from '../../../../src/lib/gather/cluster/pods.js'
import {CATALOG} from '../../../../src/lib/gather/node/catalog.js'
import {gatherViaPods, onNodePod} from '../../../../src/lib/gather/node/pod-gather.js'
import {PodExecTransport} from '../../../../src/lib/gather/node/pod-transport.js'
import {runCommand} from '../../../../src/lib/gather/node/run-command.js'
import {describeNetns, TestNetns} from '../../../helpers/netns.js'

const node = (name: string): unknown => ({apiVersion: 'v1', kind: 'Node', metadata: {name}, status: {addresses: [{type: 'InternalIP', address: '10.0.0.1'}]}})
const agent = (name: string, nodeName: string, hostNetwork: boolean, phase = 'Running'): unknown => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {namespace: 'kube-system', name, labels: {'k8s-app': 'agent'}},
  spec: {nodeName, hostNetwork, containers: [{name: 'agent', image: 'a'}, {name: 'sidecar', image: 's'}]},
  status: {phase},
})

/** Records every exec and answers with the argv it was given (on channel 1). */
function recorder(seen: ExecContext[]): ExecHook {
  return async (ctx) => {
    seen.push(ctx)
    ctx.stdout(Buffer.from(ctx.command.join(' ')))
    return {exitCode: 0}
  }
}

const dir = mkdtempSync(join(tmpdir(), 'knet-podgather-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
let server: ApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** The stand-in server and a client whose 60 s limits are hang detectors (under two CI runs an exec took the server past 5 s). */
async function start(objects: unknown[], options: Partial<ApiServerOptions>): Promise<{server: ApiServer; client: PodClient}> {
  server = await startApiServer({objects, tls: 'self-signed', token: 'tok', podStartDelayMs: 10, ...options})
  const kubeconfig = server.writeKubeconfig(join(dir, `kc-${Math.random().toString(36).slice(2)}`))
  return {server, client: openPodClient({kubeconfig, timeoutMs: 60_000})}
}

const base = {image: 'example/tools:1', debugNamespace: 'default', parallel: 4, nodeTimeoutMs: 20_000, pollMs: 10}

describe('gatherViaPods', () => {
  it('progress: the nodes planned, then each node from before its pod is created until after it is deleted', async () => {
    const {server, client} = await start([node('node-1'), node('node-2')], {exec: recorder([])})
    const events: unknown[] = []
    const r = await gatherViaPods({...base, mode: 'pod', client, nodes: ['node-1', 'node-2'], parallel: 1, onNodeProgress: (e) => events.push({...e, pods: server.pods().length})})
    expect(r.errors).toEqual([])
    expect(events).toEqual([
      {kind: 'plan', nodes: ['node-1', 'node-2'], pods: 0},
      {kind: 'start', node: 'node-1', pods: 0},
      {kind: 'done', node: 'node-1', pods: 0},
      {kind: 'start', node: 'node-2', pods: 0},
      {kind: 'done', node: 'node-2', pods: 0},
    ])
  })

  it('pod: one minimal pod per node, every catalogue command exec\'d in it as argv, all pods deleted', async () => {
    const seen: ExecContext[] = []
    const {server, client} = await start([node('node-1'), node('node-2')], {exec: recorder(seen)})
    const r = await gatherViaPods({...base, mode: 'pod', client, nodes: ['node-1', 'node-2'], runId: 'feedc0de'})
    expect(r.errors).toEqual([])
    expect(r.nodes.map((n) => [n.name, n.access])).toEqual([
      ['node-1', {kind: 'pod', target: 'default/knet-feedc0de-0-node-1'}],
      ['node-2', {kind: 'pod', target: 'default/knet-feedc0de-1-node-2'}],
    ])
    for (const n of r.nodes) expect(n.results.map((c) => [c.id, c.status, c.stdout])).toEqual(CATALOG.map((c) => [c.id, 'ok', c.argv.join(' ')]))
    expect(seen).toHaveLength(2 * CATALOG.length)
    const spec = seen[0]?.pod.spec as Record<string, unknown>
    expect(spec).toEqual({
      nodeName: seen[0]?.node,
      hostNetwork: true,
      hostPID: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: 80,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      tolerations: [{operator: 'Exists'}],
      containers: [
        {
          name: 'knet',
          image: 'example/tools:1',
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '80'],
          securityContext: {runAsUser: 0, privileged: false, allowPrivilegeEscalation: false, capabilities: {drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW']}},
          resources: {requests: {cpu: '10m', memory: '32Mi'}, limits: {memory: '256Mi'}},
          volumeMounts: [
            {name: 'cni-conf', mountPath: '/etc/cni/net.d', readOnly: true},
            {name: 'cni-state', mountPath: '/var/lib/cni', readOnly: true},
          ],
        },
      ],
      volumes: [
        {name: 'cni-conf', hostPath: {path: '/etc/cni/net.d', type: 'Directory'}},
        {name: 'cni-state', hostPath: {path: '/var/lib/cni', type: 'Directory'}},
      ],
    })
    expect((seen[0]?.pod.metadata as {labels: unknown}).labels).toEqual({'app.kubernetes.io/managed-by': 'knet', 'knet.dev/run-id': 'feedc0de', 'app.kubernetes.io/name': 'knet-node'})
    expect(server.pods()).toEqual([])
    expect(server.requests.filter((q) => q.method === 'DELETE').map((q) => q.query)).toEqual([{gracePeriodSeconds: '0'}, {gracePeriodSeconds: '0'}])
  })

  it('agent: execs into each node\'s Running hostNetwork agent pod (first container); a node without one, or with a pod-network agent, is a collection error', async () => {
    const seen: ExecContext[] = []
    const objects = [node('node-1'), node('node-2'), node('node-3'), agent('agent-a', 'node-1', true), agent('agent-old', 'node-3', true, 'Failed'), agent('agent-b', 'node-2', false)]
    const {server, client} = await start(objects, {exec: recorder(seen)})
    const r = await gatherViaPods({...base, mode: 'agent', client, nodes: ['node-1', 'node-2', 'node-3'], agentSelector: 'k8s-app=agent', agentNamespace: 'kube-system'})
    expect(r.nodes.map((n) => [n.name, n.access])).toEqual([['node-1', {kind: 'agent', target: 'kube-system/agent-a'}]])
    expect(r.errors).toEqual([
      {node: 'node-2', source: 'node-access', kind: 'bad-input', message: "agent pod kube-system/agent-b is not hostNetwork: its network namespace is not the node's"},
      {node: 'node-3', source: 'node-access', kind: 'not-found', message: 'no Running agent pod (k8s-app=agent in namespace kube-system) on node node-3'},
    ])
    expect(new Set(seen.map((s) => s.container))).toEqual(new Set(['agent']))
    expect(server.requests.filter((q) => q.method !== 'GET')).toEqual([])
    expect(server.pods().map((p) => p.name)).toEqual(['agent-a', 'agent-b', 'agent-old'])
  })
})

describe('onNodePod (trace --probe from a node)', () => {
  it('pod: the work runs in knet\'s pod on that node, which is deleted after it — also when the work fails', async () => {
    const {server, client} = await start([node('node-1'), node('node-2')], {exec: recorder([])})
    const ok = await onNodePod({...base, mode: 'pod', client, runId: 'c0ffee00'}, 'node-2', async (t) => {
      expect(server.pods().map((p) => [p.name, p.node])).toEqual([['knet-c0ffee00-0-node-2', 'node-2']])
      return client.exec(t.namespace, t.name, t.container, ['nc', '-v', '-w', '2', '10.244.1.2', '80'], {timeoutMs: 60_000, maxBytes: 1000})
    })
    expect([ok.run.ok && ok.run.value.stdout, ok.errors]).toEqual(['nc -v -w 2 10.244.1.2 80', []])
    const failed = await onNodePod({...base, mode: 'pod', client}, 'node-1', async () => {
      throw new Error('tool broke')
    })
    expect([failed.run.ok, failed.run.ok ? undefined : (failed.run.error as Error).message, failed.errors]).toEqual([false, 'tool broke', []])
    expect(server.pods()).toEqual([])
  })

  it('agent: the work runs in the agent pod on that node; a node without a hostNetwork agent is a failed run, nothing created', async () => {
    const seen: ExecContext[] = []
    const {server, client} = await start([node('node-1'), node('node-2'), agent('agent-a', 'node-1', true), agent('agent-b', 'node-2', false)], {exec: recorder(seen)})
    const o = {...base, mode: 'agent' as const, client, agentSelector: 'k8s-app=agent', agentNamespace: 'kube-system'}
    const ok = await onNodePod(o, 'node-1', async (t) => [t.kind, t.namespace, t.name, t.container])
    expect(ok.run).toEqual({ok: true, value: ['agent', 'kube-system', 'agent-a', 'agent']})
    const refused = await onNodePod(o, 'node-2', async () => 'never')
    expect([refused.run.ok, refused.run.ok ? undefined : (refused.run.error as Error).message]).toEqual([false, "agent pod kube-system/agent-b is not hostNetwork: its network namespace is not the node's"])
    expect(server.requests.filter((q) => q.method !== 'GET')).toEqual([])
  })
})

describeNetns('the netns exec hook behind a pod [root]', () => {
  it('runs catalogue commands in the node\'s namespace; a missing binary fails as containerd reports it; other pods and commands are refused', async () => {
    const ns = TestNetns.create('podexec')
    try {
      ns.run(['ip', 'link', 'add', 'knetv0', 'type', 'veth', 'peer', 'name', 'knetv1'])
      const hook = netnsExecHook({netnsFor: (n) => (n === 'node-1' ? ns.name : undefined), allow: (argv) => argv[0] !== 'rm'})
      const objects = [node('node-1'), agent('host-agent', 'node-1', true), agent('pod-agent', 'node-1', false)]
      const {client} = await start(objects, {exec: hook})
      const links = CATALOG.find((c) => c.id === 'links')
      if (!links) throw new Error('no links command')
      const viaPod = await runCommand(new PodExecTransport('agent', client, 'kube-system', 'host-agent', 'agent'), links)
      expect(viaPod.status).toBe('ok')
      expect((JSON.parse(viaPod.stdout) as {ifname: string}[]).map((l) => l.ifname).sort()).toEqual(['knetv0', 'knetv1', 'lo'])
      const missing = await client.exec('kube-system', 'host-agent', 'agent', ['knet-no-such-tool'], {timeoutMs: 60_000, maxBytes: 1000})
      expect(missing.error).toMatch(/executable file not found in \$PATH/)
      const refused = await client.exec('kube-system', 'host-agent', 'agent', ['rm', '-rf', '/x'], {timeoutMs: 60_000, maxBytes: 1000})
      expect(refused.error).toBe('Internal error occurred: refused by this stand-in: rm -rf /x')
      const podNet = await client.exec('kube-system', 'pod-agent', 'agent', ['ip', 'link'], {timeoutMs: 60_000, maxBytes: 1000})
      expect(podNet.error).toMatch(/only in hostNetwork pods/)
    } finally {
      ns.destroy()
    }
  })
})

