/**
 * Shared by the root-only lab tests: bring a lab up through the built CLI, probe with the library
 * (one prober process per probe, a few at a time), and prove that `down` left nothing behind. The
 * CLI runs without blocking this worker (knetAsync): a `lab up` that takes minutes on a loaded
 * machine must not starve vitest's own messages ("Timeout calling onTaskUpdate").
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {labMarker, planLab, planNamespaces, type LabPlan, type Topology} from '../../../src/lib/lab/plan.js'
import {probeMany, type ProbeRequest, type ProbeResult} from '../../../src/lib/lab/probe.js'
import {findLabProcesses} from '../../../src/lib/lab/processes.js'
import {readLabState, statePath, type LabState} from '../../../src/lib/lab/state.js'
import {knetAsync as knet} from '../../helpers/cli.js'
import {describeNetns} from '../../helpers/netns.js'
import {uniqueLabName} from '../../helpers/unique.js'

/** What `knet lab` runs besides `ip` (declared so a CI image without them skips visibly). */
export const LAB_TOOLS = ['bridge', 'sysctl', 'iptables-restore', 'ping'] as const

export function tempLabRoot(tag: string): string {
  return mkdtempSync(join(tmpdir(), `knet-lab-${tag}-`))
}

/** The lab's state file, which a test that brought the lab up expects to exist. */
export async function upLabState(name: string, root: string): Promise<LabState> {
  const s = await readLabState(name, root)
  if (!s) throw new Error(`no state for ${name}`)
  return s
}

/** `knet lab down` on a test's lab, then its state root removed: every namespace gone. */
export async function downLab(name: string, root: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  if (!root) return
  const down = await knet(['lab', 'down', '--name', name], {env})
  rmSync(root, {recursive: true, force: true})
  expect(down.status, down.stderr).toBe(0)
  expect(labNamespaces(name)).toEqual([])
}

export function labNamespaces(name: string): string[] {
  return execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((ns) => ns.startsWith(`knetlab-${name}-`))
}

/** Names of the links in the namespace this test runs in (the host's root namespace in CI). */
export function rootLinks(): Set<string> {
  const out = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], {encoding: 'utf8'})) as {ifname: string}[]
  return new Set(out.map((l) => l.ifname))
}

/** The lab's own interface names: none of them may ever appear in the root namespace. */
export function newLabLikeLinks(before: Set<string>): string[] {
  return [...rootLinks()].filter((n) => !before.has(n) && /^(br0|cbr0|flannel\.1|n\d+|veth\d+)$/.test(n))
}

export async function assertNothingLeft(name: string, root: string, linksBefore: Set<string>): Promise<void> {
  expect(labNamespaces(name)).toEqual([])
  expect(await findLabProcesses(labMarker(name))).toEqual([])
  expect(existsSync(statePath(name, root))).toBe(false)
  expect(existsSync(join(root, `lab-${name}`))).toBe(false)
  expect(newLabLikeLinks(linksBefore)).toEqual([])
}

/**
 * Every probe in one go: one prober process per source namespace (plus a ping per ICMP probe).
 * A probe without its own timeout waits up to 5 s per attempt instead of the prober's 1 s: an
 * answer ends the wait at once, so this costs nothing when the lab answers, and on a loaded
 * machine (two CI runs on two cores) a late answer is still an answer, not a timeout.
 */
export function probeAll(plan: LabPlan, requests: ProbeRequest[]): Promise<ProbeResult[]> {
  return probeMany(plan, requests.map((r) => ({timeoutMs: 5000, ...r})))
}

/** "SRC → DST proto: outcome [answeredBy]" lines: a failing matrix shows every cell at once. */
export function summarise(results: ProbeResult[]): string[] {
  return results.map((r) => `${r.source.name} → ${r.destination.input} ${r.protocol}: ${r.outcome} [${r.answeredBy.join(',')}]`)
}

/** The exhaustive matrix: every pod to every pod (itself too) over tcp, udp and icmp, and every Service. */
export function matrixRequests(plan: LabPlan): {requests: ProbeRequest[]; expected: string[]} {
  const requests: ProbeRequest[] = []
  const expected: string[] = []
  for (const src of plan.pods) {
    for (const dst of plan.pods) {
      for (const protocol of ['tcp', 'udp', 'icmp'] as const) {
        requests.push({source: src.name, destination: dst.name, protocol})
        expected.push(`pod/default/${src.name} → ${dst.name} ${protocol}: delivered [${dst.name}]`)
      }
    }
    for (const svc of plan.services) {
      const eps = svc.endpoints.map((e) => e.pod).sort().join(',')
      const outcome = svc.endpoints.length > 0 ? 'delivered' : 'refused'
      const protocol = svc.ports[0]?.protocol === 'UDP' ? 'udp' : 'tcp'
      requests.push({source: src.name, destination: `svc/default/${svc.name}`, attempts: svc.endpoints.length > 1 ? 80 : 1})
      expected.push(`pod/default/${src.name} → svc/default/${svc.name} ${protocol}: ${outcome} [${eps}]`)
      const nodePort = svc.ports[0]?.nodePort
      if (nodePort !== undefined) {
        for (const node of plan.nodes) {
          requests.push({source: src.name, destination: `node/${node.name}:${nodePort}`, attempts: 80})
          expected.push(`pod/default/${src.name} → node/${node.name}:${nodePort} ${protocol}: delivered [${eps}]`)
        }
      }
    }
  }
  return {requests, expected}
}

/**
 * The full check for one topology: up through the CLI, nothing in the root namespace, the whole
 * probe matrix, status and probe through the CLI, down leaves nothing (and is idempotent). The
 * lab's name is `tag` made unique to this test process (uniqueLabName).
 */
export function labMatrixSuite(topology: Topology, tag: string): void {
  const name = uniqueLabName(tag)
  describeNetns(`knet lab (${topology}, 2 nodes × 2 pods) [root]`, () => {
    // Made in beforeAll, so a filtered or skipped run leaves no empty directory behind.
    let root = ''
    const env: NodeJS.ProcessEnv = {}
    const plan = planLab({name, nodes: 2, podsPerNode: 2, topology})
    let linksBefore = new Set<string>()

    beforeAll(async () => {
      root = tempLabRoot(name)
      env.KNET_LAB_DIR = root
      linksBefore = rootLinks()
      await knet(['lab', 'down', '--name', name], {env})
      const t0 = Date.now()
      const up = await knet(['lab', 'up', '--name', name, '--topology', topology], {env})
      process.stderr.write(`lab up ${topology} 2x2 took ${Date.now() - t0} ms (CLI)\n`)
      expect(up.stderr).toContain(`lab ${name} is up (${topology}, 2 nodes × 2 pods)`)
      expect(up.status).toBe(0)
    })

    afterAll(async () => {
      if (!root) return
      await knet(['lab', 'down', '--name', name], {env})
      rmSync(root, {recursive: true, force: true})
    })

    it('creates the planned namespaces and nothing in the root namespace', () => {
      expect(labNamespaces(name).sort()).toEqual(planNamespaces(plan).sort())
      expect(newLabLikeLinks(linksBefore)).toEqual([])
    })

    it('every pod reaches every pod (tcp, udp, icmp) and every Service, answered by the right pods', async () => {
      const {requests, expected} = matrixRequests(plan)
      const results = await probeAll(plan, requests)
      expect(summarise(results)).toEqual(expected)
    })

    it('probe through the CLI: text, JSON schema, exit codes', async () => {
      // --timeout 5s: as probeAll, so a loaded machine's late answer still counts.
      const text = await knet(['lab', 'probe', '--name', name, 'web-1-1', 'web-2-2', '--timeout', '5s'], {env})
      expect(text.stdout).toBe('pod/default/web-1-1 → pod/default/web-2-2:8080 (10.244.2.3:8080) tcp: DELIVERED\n  answered by: web-2-2\n')
      expect(text.status).toBe(0)
      const json = await knet(['lab', 'probe', '--name', name, 'node/node-1', 'svc/default/dns', '--timeout', '5s', '-o', 'json'], {env})
      expect(json.status).toBe(0)
      const r = JSON.parse(json.stdout)
      expect(r).toMatchObject({
        schemaVersion: 1,
        lab: name,
        source: {kind: 'node', name: 'node/node-1', ip: '10.100.0.2'},
        destination: {kind: 'service', ip: '10.96.0.53', port: 53, service: {name: 'dns', endpoints: ['web-1-1', 'web-2-1']}},
        protocol: 'udp',
        port: 53,
        outcome: 'delivered',
        answeredBy: ['web-1-1', 'web-2-1'],
        silentEndpoints: [],
      })
      const refused = await knet(['lab', 'probe', '--name', name, 'web-2-1', 'svc/default/empty'], {env})
      expect(refused.stdout).toContain('tcp: REFUSED')
      expect(refused.status).toBe(1)
    })

    it('ICMP with don’t-fragment: the largest packet the path takes passes, one byte more does not', async () => {
      const mtu = topology === 'vxlan' ? 1450 : 1500
      const [fits, big] = await probeAll(plan, [
        {source: 'web-1-1', destination: 'web-2-1', protocol: 'icmp', size: mtu - 28},
        {source: 'web-1-1', destination: 'web-2-1', protocol: 'icmp', size: mtu - 28 + 1},
      ])
      expect(fits?.outcome).toBe('delivered')
      expect([big?.outcome, big?.detail]).toEqual(['error', `message too long (mtu ${mtu})`])
      await expect(probeAll(plan, [{source: 'web-1-1', destination: 'nosuchpod'}])).rejects.toThrow(/"nosuchpod" is not a pod/)
    })

    it('snapshot reads the lab: its objects file and its nodes through netns', async () => {
      const out = join(root, 'snap.json')
      const map = plan.nodes.map((n) => `${n.name}=${n.netns}`).join(',')
      const r = await knet(['snapshot', '--objects', join(root, `lab-${name}`, 'objects.json'), '--node-access', 'netns', '--netns-map', map, '-o', out], {env})
      expect(r.status).toBe(0)
      expect(r.stderr).toContain('cluster (objects-file): 2 nodes, 4 pods, 4 services, 4 endpointSlices, 0 networkPolicies, 2 daemonSets, 1 kubeProxyConfigMap, 3 namespaces')
      const snap = JSON.parse(readFileSync(out, 'utf8')) as {nodes: {commands: {id: string; stdout: string}[]}[]}
      expect(JSON.stringify(snap.nodes)).toContain('KUBE-SERVICES')
    })

    it('status shows every namespace and responder as present', async () => {
      const r = await knet(['lab', 'status', '--name', name, '-o', 'json'], {env})
      expect(r.status).toBe(0)
      const s = JSON.parse(r.stdout)
      expect(s).toMatchObject({schemaVersion: 1, name, status: 'up', topology, healthy: true, strayNamespaces: [], objectsFile: join(root, `lab-${name}`, 'objects.json')})
      expect(s.nodeMap).toEqual({'node-1': `knetlab-${name}-n1`, 'node-2': `knetlab-${name}-n2`})
      expect(s.pods.map((p: {name: string; ip: string; present: boolean; responder: {running: boolean}}) => [p.name, p.ip, p.present, p.responder.running])).toEqual(
        plan.pods.map((p) => [p.name, p.ip, true, true]),
      )
    })

    it('up on an existing lab exits 2; down removes everything and is idempotent', async () => {
      const again = await knet(['lab', 'up', '--name', name, '--topology', topology], {env})
      expect(again.status).toBe(2)
      expect(again.stderr).toBe(`knet: lab ${name} exists (status up) (run "knet lab down --name ${name}" first, or "knet lab up --force")\n`)
      const down = await knet(['lab', 'down', '--name', name], {env})
      expect(down.status).toBe(0)
      expect(down.stderr).toBe(`lab ${name}: removed ${planNamespaces(plan).length} namespaces, stopped ${plan.pods.length + 1} processes\n`) // responders + the API server
      await assertNothingLeft(name, root, linksBefore)
      const twice = await knet(['lab', 'down', '--name', name], {env})
      expect(twice.status).toBe(0)
      expect(twice.stderr).toBe(`lab ${name}: nothing to remove\n`)
    })
  }, LAB_TOOLS)
}
