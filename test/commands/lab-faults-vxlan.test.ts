/**
 * The faults whose mechanics differ on a VXLAN overlay, on one vxlan lab (2 nodes × 2 pods):
 * missing-route (the flannel.1 route), stale-route (the VTEP's fdb entry points at the old IP),
 * cidr-overlap and mtu-mismatch (node-1's NIC lowered under flannel.1: the full-size frames node-2
 * sends it are dropped). Root only.
 */
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import {planLab} from '../../src/lib/lab/plan.js'
import {probeMany} from '../../src/lib/lab/probe.js'
import {knet} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {BASELINE, pod, probeLine, type Expectation} from '../lib/lab/faults-harness.js'
import {LAB_TOOLS, assertNothingLeft, rootLinks, tempLabRoot} from '../lib/lab/lab-harness.js'

const NAME = 'tfv'
const plan = planLab({name: NAME, nodes: 2, podsPerNode: 2, topology: 'vxlan'})

async function expectAll(list: Expectation[]): Promise<void> {
  expect((await probeMany(plan, list.map(([r]) => r))).map(probeLine)).toEqual(list.map(([, l]) => l))
}

const BROKEN: Record<string, Expectation[]> = {
  'missing-route': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-2', 'web-1-2', 'udp'), 'web-2-2 → web-1-2 udp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'stale-route': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-2', 'web-1-1', 'icmp'), 'web-2-2 → web-1-1 icmp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'cidr-overlap': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-2', 'web-1-2', 'udp'), 'web-2-2 → web-1-2 udp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]'],
  ],
  'mtu-mismatch': [
    [pod('web-1-1', 'web-2-1', 'icmp', {size: 1322}), 'web-1-1 → web-2-1 icmp size 1322: delivered [web-2-1]'],
    [pod('web-1-1', 'web-2-1', 'icmp', {size: 1422}), 'web-1-1 → web-2-1 icmp size 1422: timeout []'],
    [pod('web-2-2', 'web-1-2', 'icmp', {size: 1422}), 'web-2-2 → web-1-2 icmp size 1422: timeout []'],
    [pod('web-1-1', 'web-1-2', 'icmp', {size: 1422}), 'web-1-1 → web-1-2 icmp size 1422: delivered [web-1-2]'],
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'],
  ],
}

describeNetns('knet lab break/heal: overlay faults on a vxlan lab [root]', () => {
  let root = ''
  const env: NodeJS.ProcessEnv = {}
  let linksBefore = new Set<string>()

  beforeAll(() => {
    root = tempLabRoot(NAME)
    env.KNET_LAB_DIR = root
    linksBefore = rootLinks()
    knet(['lab', 'down', '--name', NAME], {env})
    expect(knet(['lab', 'up', '--name', NAME, '--topology', 'vxlan'], {env}).status).toBe(0)
  }, 120_000)

  afterAll(() => {
    if (!root) return
    knet(['lab', 'down', '--name', NAME], {env})
    rmSync(root, {recursive: true, force: true})
  }, 60_000)

  for (const [id, broken] of Object.entries(BROKEN)) {
    it(`${id}: documented outcome after break, delivered again after heal`, async () => {
      await expectAll(BASELINE)
      await breakFault(NAME, id, {root})
      await expectAll(broken)
      await healFaults(NAME, id, {root})
      await expectAll(BASELINE)
    }, 120_000)
  }

  it('mtu-mismatch heal restores the planned MTUs exactly; down with a fault applied leaves nothing', async () => {
    await breakFault(NAME, 'mtu-mismatch', {root})
    await healFaults(NAME, undefined, {root})
    await expectAll([
      [pod('web-1-1', 'web-2-1', 'icmp', {size: 1422}), 'web-1-1 → web-2-1 icmp size 1422: delivered [web-2-1]'],
      [pod('web-1-1', 'web-2-1', 'icmp', {size: 1423}), 'web-1-1 → web-2-1 icmp size 1423: error []'],
    ])
    await breakFault(NAME, 'stale-route', {root})
    expect(knet(['lab', 'down', '--name', NAME], {env}).status).toBe(0)
    await assertNothingLeft(NAME, root, linksBefore)
  }, 120_000)
}, LAB_TOOLS)
