/**
 * The lab's safety promises, with real namespaces (root): an interrupted `up` (SIGINT, or kill -9
 * followed by `down`) leaves nothing; two labs with different names coexist and `down` of one
 * leaves the other working; without root every lab command says what it needs in one line.
 */
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {labUp} from '../../src/lib/lab/build.js'
import {labMarker, planLab, planNamespaces} from '../../src/lib/lab/plan.js'
import {findLabProcesses} from '../../src/lib/lab/processes.js'
import {statePath} from '../../src/lib/lab/state.js'
import {labStatus} from '../../src/lib/lab/status.js'
import {labDown} from '../../src/lib/lab/teardown.js'
import {knet} from '../helpers/cli.js'
import {describeNetns, netnsSkipReason} from '../helpers/netns.js'
import {LAB_TOOLS, assertNothingLeft, labNamespaces, probeAll, rootLinks, summarise, tempLabRoot} from '../lib/lab/lab-harness.js'

const RUN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

/** Start `knet lab up` and signal it once its progress shows `after` on stderr. */
function interruptUp(
  args: string[],
  env: NodeJS.ProcessEnv,
  after: RegExp,
  signal: NodeJS.Signals,
  andThen: () => boolean = () => true,
): Promise<{code: number | null; signal: string | null; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, 'lab', 'up', ...args], {env: {...process.env, ...env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    let sent = false
    const poll = (): void => {
      if (sent) return
      if (after.test(stderr) && andThen()) {
        sent = true
        child.kill(signal)
      } else setTimeout(poll, 5)
    }
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    poll()
    child.on('close', (code, sig) => {
      sent = true
      resolve({code, signal: sig, stderr})
    })
  })
}

describeNetns('knet lab: interrupted up [root]', () => {
  let root = ''
  const env: NodeJS.ProcessEnv = {}
  const name = 'tint'
  let linksBefore = new Set<string>()
  beforeAll(() => {
    root = tempLabRoot(name)
    env.KNET_LAB_DIR = root
    linksBefore = rootLinks()
  })
  afterAll(async () => {
    if (!root) return
    await labDown(name, {root})
    rmSync(root, {recursive: true, force: true})
  })

  it('SIGINT mid-build: exits 130 and removes what was built', async () => {
    const r = await interruptUp(['--name', name, '--pods-per-node', '3'], env, /wiring \d+ pods/, 'SIGINT')
    expect(r.stderr).toContain(`knet: lab ${name}: interrupted; everything built so far was removed`)
    expect(r.code).toBe(130)
    await assertNothingLeft(name, root, linksBefore)
  }, 60_000)

  it('kill -9 once responders run, state file lost too: down still finds everything by name and marker', async () => {
    const r = await interruptUp(['--name', name, '--topology', 'vxlan'], env, /starting \d+ responders/, 'SIGKILL', () => (readLabStateSync(root, name)?.processes.length ?? 0) > 0)
    expect(r.signal).toBe('SIGKILL')
    expect(labNamespaces(name).length).toBeGreaterThan(0)
    expect((await findLabProcesses(labMarker(name))).length).toBeGreaterThan(0)
    // The worst case: the state file is gone as well; only the names and markers are left.
    rmSync(statePath(name, root), {force: true})
    const down = knet(['lab', 'down', '--name', name], {env})
    expect(down.status).toBe(0)
    expect(down.stderr).toMatch(new RegExp(`^lab ${name}: removed ${planNamespaces(planLab({name, nodes: 2, podsPerNode: 2, topology: 'vxlan'})).length} namespaces, stopped [1-9]\\d* processes\n$`))
    await assertNothingLeft(name, root, linksBefore)
  }, 60_000)
}, LAB_TOOLS)

function readLabStateSync(root: string, name: string): {processes: unknown[]} | undefined {
  try {
    return JSON.parse(readFileSync(statePath(name, root), 'utf8')) as {processes: unknown[]}
  } catch {
    return undefined
  }
}

describeNetns('knet lab: two labs coexist, one of them 3 nodes [root]', () => {
  let root = ''
  const a = planLab({name: 'tca', nodes: 2, podsPerNode: 1, topology: 'host-gw'})
  const b = planLab({name: 'tcb', nodes: 3, podsPerNode: 2, topology: 'vxlan'})
  let linksBefore = new Set<string>()

  beforeAll(async () => {
    root = tempLabRoot('two')
    linksBefore = rootLinks()
    for (const plan of [a, b]) {
      const {durationMs} = await labUp({params: plan.params, root, force: true})
      process.stderr.write(`lab up ${plan.params.topology} ${plan.params.nodes}x${plan.params.podsPerNode} took ${durationMs} ms (library)\n`)
    }
  }, 120_000)
  afterAll(async () => {
    if (!root) return
    await labDown('tca', {root})
    await labDown('tcb', {root})
    rmSync(root, {recursive: true, force: true})
  })

  it('both work at once, with the same addresses in different namespaces', async () => {
    expect(labNamespaces('tca').sort()).toEqual(planNamespaces(a).sort())
    expect(labNamespaces('tcb').sort()).toEqual(planNamespaces(b).sort())
    const ra = await probeAll(a, [{source: 'web-1-1', destination: 'web-2-1'}, {source: 'web-2-1', destination: 'svc/default/web', attempts: 80}])
    expect(summarise(ra)).toEqual(['pod/default/web-1-1 → web-2-1 tcp: delivered [web-2-1]', 'pod/default/web-2-1 → svc/default/web tcp: delivered [web-1-1,web-2-1]'])
    const rb = await probeAll(b, [
      {source: 'web-1-1', destination: 'web-3-2', protocol: 'udp'},
      {source: 'web-3-2', destination: 'svc/default/web', attempts: 80},
      {source: 'node/node-2', destination: 'node/node-3:30080', attempts: 80},
    ])
    expect(summarise(rb)).toEqual([
      'pod/default/web-1-1 → web-3-2 udp: delivered [web-3-2]',
      'pod/default/web-3-2 → svc/default/web tcp: delivered [web-1-1,web-1-2,web-2-1,web-2-2,web-3-1,web-3-2]',
      'node/node-2 → node/node-3:30080 tcp: delivered [web-1-1,web-1-2,web-2-1,web-2-2,web-3-1,web-3-2]',
    ])
  }, 120_000)

  it('down of one leaves the other healthy', async () => {
    await labDown('tca', {root})
    await assertNothingLeft('tca', root, linksBefore)
    expect((await labStatus('tcb', root)).healthy).toBe(true)
    const rb = await probeAll(b, [{source: 'web-2-2', destination: 'web-1-2'}])
    expect(rb[0]?.outcome).toBe('delivered')
    await labDown('tcb', {root})
    await assertNothingLeft('tcb', root, linksBefore)
  }, 60_000)
}, LAB_TOOLS)

describe('knet lab without root', () => {
  const canDrop = netnsSkipReason === undefined && spawnSync('runuser', ['--help'], {stdio: 'ignore'}).status === 0
  it.skipIf(!canDrop)('says what it needs in one line and exits 2', () => {
    for (const args of [['lab', 'up', '--name', 'tnr'], ['lab', 'status'], ['lab', 'down'], ['lab', 'probe', 'a', 'b']]) {
      const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, RUN, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1', KNET_LAB_DIR: '/nonexistent'}})
      expect(r.stderr).toBe('knet: knet lab needs Linux and root (CAP_NET_ADMIN) to create network namespaces\n')
      expect(r.status).toBe(2)
    }
  }, 60_000)
})
