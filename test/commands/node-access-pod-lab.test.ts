/**
 * The whole pod path on a real lab (root): `knet doctor --kubeconfig <lab kubeconfig>
 * --node-access pod` creates a pod on each lab node through the lab's API server, which runs every
 * exec'd catalogue command inside that node's network namespace, so the evidence is the node's
 * real state. With a fault injected (node-1 lost its route to node-2's pod CIDR) the report must
 * equal the netns-mode report exactly, and no knet pod may be left on the server.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {openPodClient} from '../../src/lib/gather/cluster/pods.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {describeNetns, waitForIpv6Settled} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {LAB_TOOLS, tempLabRoot} from '../lib/lab/lab-harness.js'

const NAME = uniqueLabName('podax')

describeNetns('knet doctor --node-access pod over a lab [root]', () => {
  let root = ''
  let env: NodeJS.ProcessEnv = {}
  let kubeconfig = ''

  beforeAll(async () => {
    root = tempLabRoot(NAME)
    env = {KNET_LAB_DIR: root}
    kubeconfig = join(root, `lab-${NAME}`, 'kubeconfig')
    const up = await knet(['lab', 'up', '--name', NAME, '--nodes', '2', '--pods-per-node', '1'], {env})
    if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`)
    const broken = await knet(['lab', 'break', 'missing-route', '--name', NAME, '--node', 'node-1', '--target', 'node-2'], {env})
    if (broken.status !== 0) throw new Error(`lab break failed: ${broken.stderr}`)
    // The nodes' route dumps are compared across time below: the lab's link-local addresses must
    // be done with duplicate address detection (whose end adds their local routes) first.
    for (const node of ['n1', 'n2']) waitForIpv6Settled(`knetlab-${NAME}-${node}`)
  })

  afterAll(async () => {
    if (!root) return
    await knet(['lab', 'down', '--name', NAME], {env})
    rmSync(root, {recursive: true, force: true})
  })

  it('reports exactly what netns mode reports, from pods on the nodes, and leaves no pod', async () => {
    const viaNetns = await knet(['doctor', '--lab', NAME, '-o', 'json'], {env})
    const viaPods = await knet(['doctor', '--kubeconfig', kubeconfig, '--node-access', 'pod', '-o', 'json'], {env})
    const netnsReport = JSON.parse(viaNetns.stdout) as {findings: {check: string; node?: string}[]; collectionErrors: unknown[]}
    expect(netnsReport.findings.map((f) => [f.check, f.node])).toContainEqual(['route-missing', 'node-1'])
    expect(netnsReport.collectionErrors).toEqual([])
    expect(JSON.parse(viaPods.stdout)).toEqual(netnsReport)
    expect(viaPods.status).toBe(viaNetns.status)
    expect(viaPods.stderr).toBe(viaNetns.stderr)
    const left = await openPodClient({kubeconfig, timeoutMs: 5000}).list(undefined, 'app.kubernetes.io/managed-by=knet')
    expect(left).toEqual([])
  })

  it('a pod-mode snapshot records each command as kubectl exec into the node pod, with the node namespace\'s real output', async () => {
    const file = join(root, 'pod.json')
    const r = await knet(['snapshot', '--kubeconfig', kubeconfig, '--node-access', 'pod', '-o', file], {env})
    expect(r.status).toBe(0)
    const pod = JSON.parse(readFileSync(file, 'utf8')) as {
      meta: {nodeAccess: string}
      nodes: {name: string; access: {kind: string; target: string}; results: {id: string; status: string; execArgv: string[]; stdout: string}[]}[]
      collectionErrors: unknown[]
    }
    expect(pod.meta.nodeAccess).toBe('pod')
    expect(pod.collectionErrors).toEqual([])
    expect(pod.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2'])
    for (const [i, node] of pod.nodes.entries()) {
      expect(node.access.kind).toBe('pod')
      expect(node.access.target).toMatch(new RegExp(`^default/knet-[0-9a-f]{8}-${i}-${node.name}$`))
      const routes = node.results.find((c) => c.id === 'routes4')
      expect(routes?.execArgv).toEqual(['kubectl', 'exec', '-n', 'default', node.access.target.split('/')[1], '-c', 'knet', '--', 'ip', '-j', 'route', 'show', 'table', 'all'])
      expect(routes?.stdout).toBe(execFileSync('ip', ['netns', 'exec', `knetlab-${NAME}-n${i + 1}`, 'ip', '-j', 'route', 'show', 'table', 'all'], {encoding: 'utf8'}))
      expect(node.results.filter((c) => c.status !== 'ok' && c.status !== 'unavailable')).toEqual([])
    }
  })
}, ['ip', ...LAB_TOOLS])
