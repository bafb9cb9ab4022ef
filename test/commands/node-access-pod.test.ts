/**
 * `--node-access pod` through the built CLI against the stand-in API server (in this process, so
 * the test sees every pod the server holds): a run interrupted with SIGINT while its pods start, or
 * with SIGTERM while commands run in them, exits 130/143 and leaves no knet pod behind; a node that
 * does not answer within --node-timeout is a collection error and the other node's evidence is
 * kept; a PodSecurity rejection is one line naming the way out. The exec hook runs the commands on
 * this host (the lab test below runs them in real node namespaces).
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, afterEach, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {startApiServer, type ApiServer, type ApiServerOptions, type ExecHook} from '../../src/lib/apiserver/index.js'
import {podAccessOptions} from '../../src/lib/cli/flags.js'
import {clusterRoleYaml, ruleGroupsFor} from '../../src/lib/gather/cluster/rbac.js'

const RUN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const MANAGED = 'app.kubernetes.io/managed-by=knet'

const objects = [
  {apiVersion: 'v1', kind: 'Node', metadata: {name: 'node-1'}, status: {addresses: [{type: 'InternalIP', address: '10.100.0.2'}]}},
  {apiVersion: 'v1', kind: 'Node', metadata: {name: 'node-2'}, status: {addresses: [{type: 'InternalIP', address: '10.100.0.3'}]}},
  {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default'}},
  {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'restricted-ns', labels: {'pod-security.kubernetes.io/enforce': 'restricted'}}},
]

/** Runs the catalogue's argv on this host; `hang` nodes never answer until the client goes away. */
function hostExec(hang: (node: string | undefined) => boolean = () => false): ExecHook {
  return (ctx) =>
    new Promise((resolve) => {
      if (hang(ctx.node)) {
        ctx.signal.addEventListener('abort', () => resolve({exitCode: 137}), {once: true})
        return
      }
      const [file, ...args] = ctx.command
      const child = spawn(file ?? '', args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, LC_ALL: 'C'}})
      child.stdout.on('data', (c: Buffer) => ctx.stdout(c))
      child.stderr.on('data', (c: Buffer) => ctx.stderr(c))
      ctx.signal.addEventListener('abort', () => child.kill('SIGKILL'), {once: true})
      child.on('error', () => resolve({error: `failed to exec in container: exec: "${file}": executable file not found in $PATH: unknown`}))
      child.on('close', (code) => resolve({exitCode: code ?? 137}))
    })
}

const dir = mkdtempSync(join(tmpdir(), 'knet-pod-cli-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

let server: ApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(options: Partial<ApiServerOptions>): Promise<{server: ApiServer; kubeconfig: string}> {
  server = await startApiServer({objects, tls: 'self-signed', token: 'tok', ...options})
  return {server, kubeconfig: server.writeKubeconfig(join(dir, `kc-${Math.random().toString(36).slice(2)}`))}
}

interface Running {
  child: ReturnType<typeof spawn>
  done: Promise<{status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>
}

function knet(args: string[]): Running {
  const child = spawn(process.execPath, [RUN, ...args], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  // A run that never ends must not outlive the test (nor hold its pods): kill it, and the test fails.
  // A hang detector: beside another CI run (load 30 on 2 cores) one knet start-up took 20 s.
  const killer = setTimeout(() => child.kill('SIGKILL'), 400_000)
  const done = new Promise<{status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>((resolve) =>
    child.on('close', (status, signal) => {
      clearTimeout(killer)
      resolve({status, signal, stdout, stderr})
    }),
  )
  return {child, done}
}

async function until(what: string, test: () => boolean, ms = 300_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('knet doctor --node-access pod against the stand-in API server', () => {
  it('SIGINT while the node pods start: exit 130, and no knet pod is left', async () => {
    // The pods stay Pending until long after the SIGINT, however slowly knet starts.
    const {server, kubeconfig} = await start({exec: hostExec(), podStartDelayMs: 900_000})
    const run = knet(['doctor', '--kubeconfig', kubeconfig, '--node-access', 'pod', '-o', 'json'])
    await until('both node pods', () => server.pods(MANAGED).length === 2)
    expect(server.pods(MANAGED).map((p) => [p.node, p.phase])).toEqual([
      ['node-1', 'Pending'],
      ['node-2', 'Pending'],
    ])
    run.child.kill('SIGINT')
    const r = await run.done
    expect(r.stderr).toBe('knet: interrupted by SIGINT: removed 2 knet node pod(s)\n')
    expect(r.stdout).toBe('')
    expect(r.status).toBe(130)
    expect(server.pods()).toEqual([])
  }, 600_000)

  it('SIGTERM while commands run in the pods: exit 143, execs closed, no knet pod left', async () => {
    const {server, kubeconfig} = await start({exec: hostExec(() => true), podStartDelayMs: 20})
    const run = knet(['doctor', '--kubeconfig', kubeconfig, '-o', 'json'])
    await until('commands running on both nodes', () => server.execSessions() >= 2 && server.pods(MANAGED).every((p) => p.phase === 'Running'))
    run.child.kill('SIGTERM')
    const r = await run.done
    expect(r.stderr).toBe('knet: interrupted by SIGTERM: removed 2 knet node pod(s)\n')
    expect(r.status).toBe(143)
    expect(server.pods()).toEqual([])
    await until('exec sessions to end', () => server.execSessions() === 0, 30_000)
  }, 600_000)

  it('a node that does not answer within --node-timeout is a collection error; the other node is read and every pod deleted', async () => {
    // node-2's pod never starts, so only --node-timeout ends its wait (a command that hangs meets its
    // own limit first). The limit is long enough for node-1 to finish on a loaded machine too: beside
    // another CI run its catalogue took over 5 s. A minute is also long enough for a garbage
    // collection: knet's deadline was once a weakly held AbortSignal.timeout that never fired then.
    const {server, kubeconfig} = await start({exec: hostExec(), podStartDelayMs: (node) => (node === 'node-2' ? 900_000 : 20)})
    const r = await knet(['doctor', '--kubeconfig', kubeconfig, '--node-access', 'pod', '--node-timeout', '60s', '--parallel', '2', '--fail-on', 'none', '-o', 'json']).done
    const report = JSON.parse(r.stdout) as {collectionErrors: {node?: string; source: string; message: string}[]}
    expect(report.collectionErrors.filter((e) => e.node === 'node-1')).toEqual([])
    expect(report.collectionErrors.filter((e) => e.source === 'node-access')).toEqual([{node: 'node-2', source: 'node-access', message: 'node node-2 was not done within 60s (--node-timeout)'}])
    expect(r.status).toBe(3)
    expect(server.pods()).toEqual([])
    // node-1's pod really ran the catalogue.
    const node1Execs = server.requests.filter((q) => q.status === 101 && q.path.includes('-node-1/exec'))
    expect(node1Execs.length).toBeGreaterThanOrEqual(15)
  }, 600_000)

  it('a PodSecurity rejection: one line naming the namespace label or another mode, exit 3, nothing created', async () => {
    const {server, kubeconfig} = await start({exec: hostExec()})
    const r = await knet(['doctor', '--kubeconfig', kubeconfig, '--debug-namespace', 'restricted-ns', '-o', 'json']).done
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n')).toHaveLength(2)
    expect(r.stderr).toMatch(/^knet: PodSecurity "restricted:latest" in namespace restricted-ns rejected knet's node pod knet-[0-9a-f]{8}-\d-node-\d: host namespaces \(hostNetwork=true, hostPID=true\), hostPath volume/)
    expect(r.stderr).toContain('(label the namespace pod-security.kubernetes.io/enforce=privileged (kubectl label namespace restricted-ns pod-security.kubernetes.io/enforce=privileged), pass --debug-namespace with a namespace that allows privileged pods, or use --node-access agent or ssh)\n')
    expect(r.status).toBe(3)
    expect(server.pods()).toEqual([])
  }, 600_000)

  it('pod-only and agent-only flags are usage errors with other modes', () => {
    expect(() => podAccessOptions({'node-access': 'none', image: 'x/y:1'})).toThrow('--image only apply with --node-access pod')
    expect(() => podAccessOptions({'node-access': 'pod', 'agent-selector': 'a=b'})).toThrow('--agent-selector only apply with --node-access agent')
    expect(() => podAccessOptions({'node-access': 'agent'})).toThrow(/^--node-access agent needs --agent-selector/)
    expect(() => podAccessOptions({'node-access': 'ssh', 'node-timeout': 1000})).toThrow('--node-timeout only applies with --node-access pod or agent')
    // pod is the default with a live cluster, so its flags need no --node-access.
    expect(podAccessOptions({image: 'x/y:1', 'debug-namespace': 'knet-debug'})).toEqual({pod: {image: 'x/y:1', debugNamespace: 'knet-debug'}})
  })
})

describe('knet rbac --node-access', () => {
  it('pod adds pods create/delete/get/list and pods/exec; agent adds pods/exec only; other modes add nothing', async () => {
    const rules = (mode?: string): unknown[] => (parse(clusterRoleYaml({groups: ruleGroupsFor(mode)})) as {rules: unknown[]}).rules
    const read = rules()
    expect(rules('pod')).toEqual([
      ...read,
      {apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'get', 'list']},
      {apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get']},
    ])
    expect(rules('agent')).toEqual([...read, {apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get']}])
    for (const mode of ['ssh', 'docker', 'local', 'netns', 'none']) expect(rules(mode)).toEqual(read)
    const cli = await knet(['rbac', '--node-access', 'pod', '--name', 'knet-pods']).done
    expect(cli.stdout).toBe(clusterRoleYaml({name: 'knet-pods', groups: ruleGroupsFor('pod')}))
    expect(cli.stdout).toContain("  # --node-access pod: run the read-only command catalogue in knet's node pods\n")
    expect(cli.status).toBe(0)
  }, 600_000)
})
