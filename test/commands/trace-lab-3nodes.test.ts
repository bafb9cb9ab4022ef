/**
 * `knet trace` over a 3-node host-gw lab, for what needs a node off the path (everything else about
 * trace over the lab, in both topologies, is in lab-faults-*.test.ts): only the nodes on the path
 * are gathered, and `--probe` reports loudly when the real packet disagrees. Root only.
 */
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {planLab} from '../../src/lib/lab/plan.js'
import type {TraceResult} from '../../src/lib/trace/types.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {LAB_TOOLS, labNamespaces, tempLabRoot} from '../lib/lab/lab-harness.js'
import {captureLab, traceIn, traceRequest} from '../lib/trace/trace-lab-helpers.js'

const NAME = uniqueLabName('trhgw')
const plan = planLab({name: NAME, nodes: 3, podsPerNode: 2, topology: 'host-gw'})

describeNetns('knet trace over a 3-node host-gw lab (3 nodes × 2 pods) [root]', () => {
  let root = ''
  const env: NodeJS.ProcessEnv = {}

  beforeAll(async () => {
    root = tempLabRoot(NAME)
    env.KNET_LAB_DIR = root
    await knet(['lab', 'down', '--name', NAME], {env})
    const up = await knet(['lab', 'up', '--name', NAME, '--nodes', '3', '--pods-per-node', '2'], {env})
    expect(up.status).toBe(0)
  })

  afterAll(async () => {
    if (!root) return
    await knet(['lab', 'down', '--name', NAME], {env})
    rmSync(root, {recursive: true, force: true})
    expect(labNamespaces(NAME)).toEqual([])
  })

  it('only the nodes on the path are gathered, and the trace from them is complete', async () => {
    const cases: [string[], string[]][] = [
      [['web-1-1', 'web-1-2'], ['node-1']],
      [['web-1-1', 'web-2-1'], ['node-1', 'node-2']],
      [['node/node-3', 'web-2-2'], ['node-2', 'node-3']],
      [['web-3-1', 'svc/default/web'], ['node-1', 'node-2', 'node-3']],
    ]
    for (const [args, expected] of cases) {
      const snapshot = await captureLab(NAME, root, [traceRequest(args)])
      const t = traceIn(snapshot, args)
      expect([args.join(' '), snapshot.nodes.map((n) => n.name).sort(), t.result.verdict]).toEqual([args.join(' '), expected, 'delivered'])
    }
  })

  it('--probe: a change knet cannot see makes the real packet disagree, reported loudly (exit 4)', async () => {
    // The underlay segment is outside every node: its switch drops what node-2 sends, the nodes' own state does not change.
    const nft = (...args: string[]) => execFileSync('ip', ['netns', 'exec', plan.router.netns, 'nft', ...args])
    nft('add', 'table', 'bridge', 'knettest')
    nft('add', 'chain', 'bridge', 'knettest', 'blackhole', '{ type filter hook forward priority 0; }')
    nft('add', 'rule', 'bridge', 'knettest', 'blackhole', 'iifname', plan.nodes[1]?.routerPort ?? '', 'drop')
    try {
      const r = await knet(['trace', 'web-1-1', 'web-2-1', '--lab', NAME, '--probe', '-o', 'json'], {env})
      expect(r.status).toBe(4)
      expect(r.stderr).toBe("knet's prediction disagrees with the real packet: predicted delivered, but the real packet was timeout (1 attempt: 1 timeout)\n")
      const j = JSON.parse(r.stdout) as TraceResult
      expect([j.verdict, j.probe]).toEqual(['delivered', {observed: 'timeout', agrees: false, detail: 'predicted delivered, but the real packet was timeout (1 attempt: 1 timeout)'}])
    } finally {
      nft('delete', 'table', 'bridge', 'knettest')
    }
  })
}, [...LAB_TOOLS, 'iptables-save', 'nft'])
