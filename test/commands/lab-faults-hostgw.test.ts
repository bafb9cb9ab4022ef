/**
 * Every fault on one host-gw lab (2 nodes × 2 pods), one after another: baseline delivered, break,
 * the documented outcome for the affected pairs and delivered for the unaffected ones, heal,
 * baseline delivered again. Then the CLI: --list, break twice, unknown fault, heal all, and down
 * with faults still applied. Root only.
 */
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {appliedFaults, breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import {STALE_CONNTRACK_PORT} from '../../src/lib/lab/faults/stale-conntrack.js'
import {planLab} from '../../src/lib/lab/plan.js'
import {probeMany, type ProbeRequest} from '../../src/lib/lab/probe.js'
import {readLabState} from '../../src/lib/lab/state.js'
import {knet} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {BASELINE, pod, probeLine, svc, type Expectation} from '../lib/lab/faults-harness.js'
import {LAB_TOOLS, assertNothingLeft, rootLinks, tempLabRoot} from '../lib/lab/lab-harness.js'

const NAME = 'tfh'
const plan = planLab({name: NAME, nodes: 2, podsPerNode: 2, topology: 'host-gw'})

async function lines(requests: ProbeRequest[]): Promise<string[]> {
  return (await probeMany(plan, requests)).map(probeLine)
}

async function expectAll(list: Expectation[]): Promise<void> {
  expect(await lines(list.map(([r]) => r))).toEqual(list.map(([, l]) => l))
}

/** The documented outcome of each fault (with its defaults) on this lab. */
const BROKEN: Record<string, Expectation[]> = {
  'missing-route': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-1', 'web-1-2', 'udp'), 'web-2-1 → web-1-2 udp: timeout []'],
    [pod('web-1-1', 'web-2-2', 'icmp'), 'web-1-1 → web-2-2 icmp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'stale-route': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'docker0-overlap': [
    [pod('web-1-1', '172.17.2.3:8080'), 'web-1-1 → 172.17.2.3:8080 tcp: timeout []'],
    [pod('web-1-2', '172.17.2.3', 'icmp'), 'web-1-2 → 172.17.2.3 icmp: timeout []'],
    [pod('web-2-1', '172.17.2.3:8080'), 'web-2-1 → 172.17.2.3:8080 tcp: delivered [web-2-2]'],
    [pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'cidr-overlap': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-2', 'web-1-2', 'udp'), 'web-2-2 → web-1-2 udp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'stale-nat': [
    [svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]'],
    [pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []'],
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'],
  ],
  'missing-nat': [
    [svc('web-1-1', 'web', {attempts: 2}), 'web-1-1 → svc/default/web tcp: timeout []'],
    [svc('web-1-2', 'web', {attempts: 2}), 'web-1-2 → svc/default/web tcp: timeout []'],
    [svc('web-2-1', 'web'), 'web-2-1 → svc/default/web tcp: delivered [web-1-1,web-1-2,web-2-1,web-2-2]'],
    [svc('web-1-1', 'dns'), 'web-1-1 → svc/default/dns udp: delivered [web-1-1,web-2-1]'],
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'],
  ],
  'ip-forward-off': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-1', 'web-1-1'), 'web-2-1 → web-1-1 tcp: timeout []'],
    [svc('web-1-1', 'dns', {attempts: 2}), 'web-1-1 → svc/default/dns udp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: delivered [web-1-2]'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'forward-drop': [
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-1', 'web-1-1'), 'web-2-1 → web-1-1 tcp: timeout []'],
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: timeout []'],
    [svc('web-1-2', 'dns', {attempts: 2}), 'web-1-2 → svc/default/dns udp: timeout []'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'bridge-nf-off': [
    [svc('web-1-2', 'dns'), 'web-1-2 → svc/default/dns udp: partial [web-2-1]'],
    [pod('web-1-2', 'web-1-1', 'udp'), 'web-1-2 → web-1-1 udp: delivered [web-1-1]'],
    [svc('web-2-2', 'dns'), 'web-2-2 → svc/default/dns udp: delivered [web-1-1,web-2-1]'],
  ],
  'veth-detached': [
    [pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: timeout []'],
    [pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: timeout []'],
    [svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]'],
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'],
  ],
  'bridge-down': [
    [pod('web-1-1', 'web-1-2'), 'web-1-1 → web-1-2 tcp: timeout []'],
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: timeout []'],
    [pod('web-2-1', 'web-1-1', 'icmp'), 'web-2-1 → web-1-1 icmp: timeout []'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: delivered [web-2-2]'],
  ],
  'mtu-mismatch': [
    [pod('web-1-1', 'web-2-1', 'icmp', {size: 1372}), 'web-1-1 → web-2-1 icmp size 1372: delivered [web-2-1]'],
    [pod('web-1-1', 'web-2-1', 'icmp', {size: 1472}), 'web-1-1 → web-2-1 icmp size 1472: error []'],
    [pod('web-2-2', 'web-1-2', 'icmp', {size: 1472}), 'web-2-2 → web-1-2 icmp size 1472: timeout []'],
    [pod('web-1-1', 'web-1-2', 'icmp', {size: 1472}), 'web-1-1 → web-1-2 icmp size 1472: delivered [web-1-2]'],
    [pod('web-2-1', 'web-1-1'), 'web-2-1 → web-1-1 tcp: delivered [web-1-1]'],
  ],
  'netpol-deny': [
    [pod('web-1-1', 'web-2-2'), 'web-1-1 → web-2-2 tcp: timeout []'],
    [pod('web-2-1', 'web-2-2'), 'web-2-1 → web-2-2 tcp: timeout []'],
    [pod('web-2-2', 'web-1-1'), 'web-2-2 → web-1-1 tcp: delivered [web-1-1]'],
    [svc('web-1-1', 'web'), 'web-1-1 → svc/default/web tcp: partial [web-1-1,web-1-2,web-2-1]'],
    [pod('web-1-1', 'web-2-1'), 'web-1-1 → web-2-1 tcp: delivered [web-2-1]'],
  ],
}

describeNetns(`knet lab break/heal: every fault on a host-gw lab [root]`, () => {
  let root = ''
  const env: NodeJS.ProcessEnv = {}
  let linksBefore = new Set<string>()

  beforeAll(() => {
    root = tempLabRoot(NAME)
    env.KNET_LAB_DIR = root
    linksBefore = rootLinks()
    knet(['lab', 'down', '--name', NAME], {env})
    const up = knet(['lab', 'up', '--name', NAME], {env})
    expect(up.status).toBe(0)
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
      const healed = await healFaults(NAME, id, {root})
      expect([healed.healed.map((f) => f.id), healed.remaining]).toEqual([[id], []])
      await expectAll(BASELINE)
    }, 120_000)
  }

  it('stale-conntrack: the stuck source port times out, a new one is delivered by the remaining endpoint', async () => {
    await expectAll(BASELINE)
    await breakFault(NAME, 'stale-conntrack', {root})
    const state = await readLabState(NAME, root)
    const gone = String(appliedFaults(state?.faults)[0]?.data?.endpoint)
    const remaining = ['web-1-1', 'web-2-1'].filter((p) => p !== gone)
    expect(remaining).toHaveLength(1)
    await expectAll([
      [svc('web-1-2', 'dns', {sourcePort: STALE_CONNTRACK_PORT, attempts: 2}), 'web-1-2 → svc/default/dns udp: timeout []'],
      [svc('web-2-2', 'dns', {attempts: 6}), `web-2-2 → svc/default/dns udp: delivered [${remaining.join(',')}]`],
    ])
    // The fresh source port, from the stuck client itself (separately: one prober per source at a time).
    await expectAll([[svc('web-1-2', 'dns', {attempts: 6}), `web-1-2 → svc/default/dns udp: delivered [${remaining.join(',')}]`]])
    const objects = JSON.parse(readFileSync(join(root, `lab-${NAME}`, 'objects.json'), 'utf8')) as {items: {kind: string; metadata: {name: string}}[]}
    expect(objects.items.filter((o) => o.kind === 'Pod').map((o) => o.metadata.name)).not.toContain(gone)
    await healFaults(NAME, 'stale-conntrack', {root})
    await expectAll(BASELINE)
    // Healed: the stuck port's entry was flushed, so that port is answered again.
    const [again] = await probeMany(plan, [svc('web-1-2', 'dns', {sourcePort: STALE_CONNTRACK_PORT, attempts: 1})])
    expect(again?.outcome).toBe('delivered')
  }, 120_000)

  it('netpol-deny and stale-nat change the API objects, heal restores them', async () => {
    const objectsFile = join(root, `lab-${NAME}`, 'objects.json')
    const original = readFileSync(objectsFile, 'utf8')
    await breakFault(NAME, 'netpol-deny', {root})
    await breakFault(NAME, 'stale-nat', {root})
    const items = (JSON.parse(readFileSync(objectsFile, 'utf8')) as {items: {kind: string; metadata: {name: string; labels?: Record<string, string>}; spec?: unknown; endpoints?: {targetRef?: {name: string}}[]}[]}).items
    expect(items.filter((o) => o.kind === 'NetworkPolicy').map((o) => [o.metadata.name, o.spec])).toEqual([
      ['deny-ingress-web-2-2', {podSelector: {matchLabels: {'knet.dev/quarantine': 'true'}}, policyTypes: ['Ingress']}],
    ])
    // stale-nat deleted web-2-2 (with its label) from the API and from the web slices.
    expect(items.filter((o) => o.kind === 'Pod').map((o) => o.metadata.name)).toEqual(['web-1-1', 'web-1-2', 'web-2-1'])
    expect(items.filter((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'web-lab').flatMap((o) => o.endpoints?.map((e) => e.targetRef?.name))).toEqual(['web-1-1', 'web-1-2', 'web-2-1'])
    // The restarted API server serves the changed objects through the lab's kubeconfig.
    const snap = knet(['snapshot', '--lab', NAME, '-o', join(root, 'snap.json')], {env})
    expect(snap.stderr).toContain('3 pods')
    expect(snap.stderr).toContain('1 networkPolic')
    const healed = await healFaults(NAME, undefined, {root})
    expect(healed.healed.map((f) => f.id)).toEqual(['stale-nat', 'netpol-deny'])
    expect(readFileSync(objectsFile, 'utf8')).toBe(original)
    await expectAll(BASELINE)
  }, 120_000)

  it('CLI: --list, unknown fault, break twice, heal all, down with faults applied', async () => {
    const list = knet(['lab', 'break', '--list', '--json'], {env})
    expect(list.status).toBe(0)
    expect((JSON.parse(list.stdout) as {faults: {id: string}[]}).faults.map((f) => f.id)).toHaveLength(14)
    const unknown = knet(['lab', 'break', 'nope', '--name', NAME], {env})
    expect([unknown.status, unknown.stderr.split('\n').length]).toEqual([2, 2])
    expect(unknown.stderr).toMatch(/^knet: unknown fault "nope"; valid: missing-route, stale-route, .*, stale-conntrack\n$/)
    const first = knet(['lab', 'break', 'missing-route', '--name', NAME], {env})
    expect(first.status).toBe(0)
    expect(first.stderr).toContain(`lab ${NAME}: broke missing-route (node node-1, target node-2)`)
    const twice = knet(['lab', 'break', 'missing-route', '--name', NAME], {env})
    expect(twice.status).toBe(2)
    expect(twice.stderr).toBe(`knet: fault missing-route is already applied to lab ${NAME} (node node-1, target node-2) (heal it first: knet lab heal missing-route --name ${NAME})\n`)
    expect(knet(['lab', 'break', 'forward-drop', '--name', NAME], {env}).status).toBe(0)
    const heal = knet(['lab', 'heal', '--name', NAME], {env})
    expect([heal.status, heal.stderr]).toEqual([0, `lab ${NAME}: healed forward-drop, missing-route\n`])
    expect(knet(['lab', 'heal', '--name', NAME], {env}).stderr).toBe(`lab ${NAME}: nothing to heal\n`)
    await expectAll(BASELINE)
    for (const id of ['netpol-deny', 'stale-nat', 'docker0-overlap', 'missing-nat']) expect(knet(['lab', 'break', id, '--name', NAME], {env}).status).toBe(0)
    const down = knet(['lab', 'down', '--name', NAME], {env})
    expect(down.status).toBe(0)
    await assertNothingLeft(NAME, root, linksBefore)
  }, 120_000)
}, [...LAB_TOOLS, 'conntrack'])
