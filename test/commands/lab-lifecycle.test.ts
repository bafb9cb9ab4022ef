/**
 * The lab's safety promises, with real namespaces (root): an interrupted `up` (SIGINT, or kill -9
 * followed by `down`) leaves nothing; two labs with different names coexist and `down` of one
 * leaves the other working; without root every lab command says what it needs in one line.
 */
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {labUp} from '../../src/lib/lab/build.js'
import {labMarker, planLab, planNamespaces} from '../../src/lib/lab/plan.js'
import {findLabProcesses} from '../../src/lib/lab/processes.js'
import {statePath} from '../../src/lib/lab/state.js'
import {labStatus} from '../../src/lib/lab/status.js'
import {labDown} from '../../src/lib/lab/teardown.js'
import {knetAsync} from '../helpers/cli.js'
import {describeNetns, netnsSkipReason} from '../helpers/netns.js'
import {baseForOtherUsers, installCliCopy, tempDirForOtherUsers} from '../helpers/other-user.js'
import {uniqueLabName} from '../helpers/unique.js'
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
  const name = uniqueLabName('tint')
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
  })

  it('kill -9 once responders run, state file lost too: down still finds everything by name and marker', async () => {
    const r = await interruptUp(['--name', name, '--topology', 'vxlan'], env, /starting \d+ responders/, 'SIGKILL', () => (readLabStateSync(root, name)?.processes.length ?? 0) > 0)
    expect(r.signal).toBe('SIGKILL')
    expect(labNamespaces(name).length).toBeGreaterThan(0)
    expect((await findLabProcesses(labMarker(name))).length).toBeGreaterThan(0)
    // The worst case: the state file is gone as well; only the names and markers are left.
    rmSync(statePath(name, root), {force: true})
    const down = await knetAsync(['lab', 'down', '--name', name], {env})
    expect(down.status).toBe(0)
    expect(down.stderr).toMatch(new RegExp(`^lab ${name}: removed ${planNamespaces(planLab({name, nodes: 2, podsPerNode: 2, topology: 'vxlan'})).length} namespaces, stopped [1-9]\\d* processes\n$`))
    await assertNothingLeft(name, root, linksBefore)
  })
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
  const a = planLab({name: uniqueLabName('tca'), nodes: 2, podsPerNode: 1, topology: 'host-gw'})
  const b = planLab({name: uniqueLabName('tcb'), nodes: 3, podsPerNode: 2, topology: 'vxlan'})
  const [na, nb] = [a.params.name, b.params.name]
  let linksBefore = new Set<string>()

  beforeAll(async () => {
    root = tempLabRoot('two')
    linksBefore = rootLinks()
    for (const plan of [a, b]) {
      const {durationMs} = await labUp({params: plan.params, root, force: true})
      process.stderr.write(`lab up ${plan.params.topology} ${plan.params.nodes}x${plan.params.podsPerNode} took ${durationMs} ms (library)\n`)
    }
  })
  afterAll(async () => {
    if (!root) return
    await labDown(na, {root})
    await labDown(nb, {root})
    rmSync(root, {recursive: true, force: true})
  })

  it('both work at once, with the same addresses in different namespaces', async () => {
    expect(labNamespaces(na).sort()).toEqual(planNamespaces(a).sort())
    expect(labNamespaces(nb).sort()).toEqual(planNamespaces(b).sort())
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
  })

  it('down of one leaves the other healthy', async () => {
    await labDown(na, {root})
    await assertNothingLeft(na, root, linksBefore)
    expect((await labStatus(nb, root)).healthy).toBe(true)
    const rb = await probeAll(b, [{source: 'web-2-2', destination: 'web-1-2'}])
    expect(rb[0]?.outcome).toBe('delivered')
    await labDown(nb, {root})
    await assertNothingLeft(nb, root, linksBefore)
  })
}, LAB_TOOLS)

describe('knet lab without root', () => {
  // nobody runs an installed copy of the CLI (and of Node) in a folder it can reach: the checkout
  // (and the Node inside it, as CI's second Node is) need not be readable by anyone but root.
  const skip =
    netnsSkipReason !== undefined || spawnSync('runuser', ['--help'], {stdio: 'ignore'}).status !== 0
      ? 'needs root and runuser'
      : baseForOtherUsers() === undefined
        ? `neither ${tmpdir()} nor /tmp can be reached by other users`
        : undefined
  let dir: string | undefined
  afterAll(async () => {
    if (dir) await rm(dir, {recursive: true, force: true})
  })

  it.skipIf(skip !== undefined)(`says what it needs in one line and exits 2${skip ? ` [skipped: ${skip}]` : ''}`, async () => {
    dir = tempDirForOtherUsers('knet-nobody-') as string
    const cli = await installCliCopy(dir)
    const runs = [['lab', 'up', '--name', 'tnr'], ['lab', 'status'], ['lab', 'down'], ['lab', 'probe', 'a', 'b']].map(
      (args) =>
        new Promise<{stderr: string; status: number | null}>((resolve) => {
          const child = spawn('runuser', ['-u', 'nobody', '--', cli.node, cli.run, ...args], {cwd: dir, env: {...process.env, NO_COLOR: '1', KNET_LAB_DIR: '/nonexistent'}, stdio: ['ignore', 'ignore', 'pipe']})
          let stderr = ''
          child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
          child.on('close', (status) => resolve({stderr, status}))
        }),
    )
    for (const r of await Promise.all(runs)) {
      expect(r.stderr).toBe('knet: knet lab needs Linux and root (CAP_NET_ADMIN) to create network namespaces\n')
      expect(r.status).toBe(2)
    }
  })
})
