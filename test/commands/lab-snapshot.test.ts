/**
 * Issue 4: `knet snapshot --lab` captures the lab's API objects (through the lab's loopback
 * stand-in API server and its kubeconfig) and every node's evidence (through netns), and `down`
 * stops the API server with everything else.
 */
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {buildClusterModel} from '../../src/lib/model/cluster.js'
import {readLabState} from '../../src/lib/lab/state.js'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {LAB_TOOLS, assertNothingLeft, rootLinks, tempLabRoot} from '../lib/lab/lab-harness.js'

describeNetns('knet snapshot --lab [root]', () => {
  const name = uniqueLabName('tsnap')
  let root = ''
  let env: NodeJS.ProcessEnv = {}
  let linksBefore = new Set<string>()

  beforeAll(async () => {
    root = tempLabRoot(name)
    env = {KNET_LAB_DIR: root}
    linksBefore = rootLinks()
    const up = await knet(['lab', 'up', '--name', name, '--nodes', '2', '--pods-per-node', '2', '--topology', 'vxlan'], {env})
    if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`)
  })

  afterAll(async () => {
    await knet(['lab', 'down', '--name', name], {env})
    rmSync(root, {recursive: true, force: true})
  })

  it('records the API server and its kubeconfig in the lab state', async () => {
    const state = await readLabState(name, root)
    expect(state?.kubeconfig).toBe(join(root, `lab-${name}`, 'kubeconfig'))
    expect(state?.apiServer?.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(state?.processes.filter((p) => p.role === 'apiserver')).toHaveLength(1)
  })

  it('captures the API objects and every node through netns', async () => {
    const out = join(root, 'snap.json.gz')
    const r = await knet(['snapshot', '--lab', name, '-o', out], {env})
    expect(r.stderr).not.toMatch(/^knet: /m)
    expect(r.status).toBe(0)
    const snap = await readSnapshot(out)
    expect(snap.meta).toMatchObject({nodeAccess: 'netns', clusterSource: 'api'})
    const model = buildClusterModel(snap.cluster!)
    expect(model.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2'])
    expect(model.pods).toHaveLength(4)
    expect(model.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(expect.arrayContaining(['default/web', 'default/empty']))
    // The lab's ServiceCIDR, as kube-apiserver would write it: the Service range is known, not assumed.
    expect(model.cidrs.service).toEqual([{cidr: '10.96.0.0/16', serviceCIDR: 'kubernetes', field: 'spec.cidrs[0]'}])
    expect(snap.nodes.map((n) => [n.name, n.access.target])).toEqual([
      ['node-1', `knetlab-${name}-n1`],
      ['node-2', `knetlab-${name}-n2`],
    ])
    for (const node of snap.nodes) {
      const failed = node.results.filter((x) => x.status === 'failed' || x.status === 'timeout')
      expect(failed).toEqual([])
      expect(node.results.find((x) => x.id === 'iptables-save')?.stdout).toContain('KUBE-SERVICES')
      expect(node.results.find((x) => x.id === 'links')?.stdout).toContain('flannel.1')
    }
    expect(snap.collectionErrors).toEqual([])
  })

  it('--lab excludes --kubeconfig and --netns-map', async () => {
    const r = await knet(['snapshot', '--lab', name, '--kubeconfig', '/dev/null', '-o', join(root, 'x.json')], {env})
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/--kubeconfig=\/dev\/null cannot also be provided when using --lab/)
  })

  it('down stops the API server along with everything else', async () => {
    const r = await knet(['lab', 'down', '--name', name], {env})
    expect(r.status).toBe(0)
    await assertNothingLeft(name, root, linksBefore)
  })
}, LAB_TOOLS)
