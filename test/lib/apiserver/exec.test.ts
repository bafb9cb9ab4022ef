/**
 * The stand-in server's pods and pods/exec: create/get/list/delete with PodSecurity admission and
 * the Pending → Running step, and exec over WebSocket in both framings, checked twice — through
 * client-node's Exec (unmodified, via knet's pod client) and byte by byte with a raw WebSocket.
 * The hook runs real processes on this host (no namespaces needed).
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, describe, expect, it} from 'vitest'
import WebSocket from 'ws'
import {startApiServer, type ApiServer, type ApiServerOptions, type ExecHook} from '../../../src/lib/apiserver/index.js'
import {openPodClient, type PodClient} from '../../../src/lib/gather/cluster/pods.js'
import {KnetError} from '../../../src/lib/report/errors.js'
import {waitFor} from '../../helpers/wait.js'

/** Runs argv on this host, as a container runtime would in the pod. */
const hostExec: ExecHook = (ctx) =>
  new Promise((resolve) => {
    const [file, ...args] = ctx.command
    const child = spawn(file ?? '', args, {stdio: [ctx.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']})
    if (ctx.stdin && child.stdin) ctx.stdin.pipe(child.stdin)
    child.stdout?.on('data', (c: Buffer) => ctx.stdout(c))
    child.stderr?.on('data', (c: Buffer) => ctx.stderr(c))
    ctx.signal.addEventListener('abort', () => child.kill('SIGKILL'), {once: true})
    child.on('error', () => resolve({error: `failed to exec in container: exec: "${file}": executable file not found in $PATH: unknown`}))
    child.on('close', (code) => resolve({exitCode: code ?? 137}))
  })

const objects = [
  {apiVersion: 'v1', kind: 'Node', metadata: {name: 'node-1'}, status: {addresses: [{type: 'InternalIP', address: '10.100.0.2'}]}},
  {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default'}},
  {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'locked', labels: {'pod-security.kubernetes.io/enforce': 'baseline'}}},
]

function podManifest(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, labels: {app: 'x', tier: name}},
    spec: {nodeName: 'node-1', hostNetwork: true, containers: [{name: 'c', image: 'i', securityContext: {capabilities: {add: ['NET_ADMIN', 'NET_RAW']}}}], ...extra},
  }
}

const dir = mkdtempSync(join(tmpdir(), 'knet-exec-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

let server: ApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(options: Partial<ApiServerOptions> = {}): Promise<{server: ApiServer; client: PodClient}> {
  server = await startApiServer({objects, tls: 'self-signed', token: 'tok', exec: hostExec, podStartDelayMs: 20, ...options})
  const kc = server.writeKubeconfig(join(dir, `kc-${Math.random().toString(36).slice(2)}`))
  return {server, client: openPodClient({kubeconfig: kc, timeoutMs: 60_000})}
}

async function running(client: PodClient, name: string): Promise<void> {
  await waitFor(`${name} to run`, async () => (await client.get('default', name))?.phase === 'Running', {intervalMs: 10})
}

const limits = {timeoutMs: 60_000, maxBytes: 1 << 20}

describe('stand-in API server: pods', () => {
  it('creates a pod Pending, runs it on its node after the delay, lists it by label and deletes it', async () => {
    const {server, client} = await start({podStartDelayMs: 150})
    const created = await client.create('default', podManifest('a'))
    await client.create('default', podManifest('b'))
    expect(created).toMatchObject({namespace: 'default', name: 'a', node: 'node-1', phase: 'Pending', hostNetwork: true, containers: ['c']})
    await running(client, 'a')
    expect(await client.get('default', 'a')).toMatchObject({phase: 'Running'})
    expect((await client.list(undefined, 'tier=a')).map((p) => p.name)).toEqual(['a'])
    expect((await client.list('default', 'app=x,tier in (a,b)')).map((p) => p.name)).toEqual(['a', 'b'])
    expect((await client.list('default', 'app!=x')).map((p) => p.name)).toEqual([])
    expect(await client.delete('default', 'a')).toBe(true)
    expect(await client.delete('default', 'a')).toBe(false)
    expect(await client.get('default', 'a')).toBeNull()
    expect(server.pods().map((p) => p.name)).toEqual(['b'])
  })

  it('refuses what a real server refuses: a duplicate, a missing namespace, PodSecurity baseline', async () => {
    const {client} = await start()
    await client.create('default', podManifest('a'))
    await expect(client.create('default', podManifest('a'))).rejects.toThrow(/pods default\/a|already exists/)
    await expect(client.create('nope', podManifest('a'))).rejects.toThrow('namespace nope does not exist')
    const refused = await client.create('locked', podManifest('a')).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(KnetError)
    expect((refused as KnetError).kind).toBe('forbidden')
    expect((refused as KnetError).oneLine()).toBe(
      'PodSecurity "baseline:latest" in namespace locked rejected knet\'s node pod a: host namespaces (hostNetwork=true), non-default capabilities (container "c" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add) (label the namespace pod-security.kubernetes.io/enforce=privileged (kubectl label namespace locked pod-security.kubernetes.io/enforce=privileged), pass --debug-namespace with a namespace that allows privileged pods, or use --node-access agent or ssh)',
    )
  })
})

describe('stand-in API server: pods/exec through client-node', () => {
  for (const protocols of [undefined, ['v4.channel.k8s.io']]) {
    const which = protocols ? 'v4.channel.k8s.io' : 'v5.channel.k8s.io'
    it(`${which}: stdout, stderr and the exit status from the status channel`, async () => {
      const {server, client} = await start(protocols ? {execProtocols: protocols} : {})
      await client.create('default', podManifest('p'))
      await running(client, 'p')
      expect(await client.exec('default', 'p', 'c', ['sh', '-c', 'printf out; printf err >&2'], limits)).toEqual({stdout: 'out', stderr: 'err', exitCode: 0, timedOut: false, truncated: false})
      expect(await client.exec('default', 'p', 'c', ['sh', '-c', 'echo half; exit 3'], limits)).toEqual({stdout: 'half\n', stderr: '', exitCode: 3, timedOut: false, truncated: false})
      const missing = await client.exec('default', 'p', 'c', ['/nonexistent/tool'], limits)
      expect(missing.exitCode).toBeNull()
      expect(missing.error).toMatch(/^Internal error occurred: failed to exec in container: .*executable file not found in \$PATH/)
      const exec = server.requests.filter((r) => r.path.endsWith('/exec'))
      expect(exec.map((r) => r.status)).toEqual([101, 101, 101])
      expect(exec[0]?.query).toMatchObject({command: 'printf out; printf err >&2', container: 'c', stdout: 'true', stderr: 'true', stdin: 'false'})
    })
  }

  it('cuts output at the cap and stops a command at its timeout', async () => {
    const {server, client} = await start()
    await client.create('default', podManifest('p'))
    await running(client, 'p')
    const big = await client.exec('default', 'p', 'c', ['sh', '-c', 'head -c 300000 /dev/zero; exec sleep 5'], {timeoutMs: 5000, maxBytes: 1000})
    expect(big).toMatchObject({truncated: true, exitCode: null})
    expect(big.stdout).toHaveLength(1000)
    const t0 = Date.now()
    const slow = await client.exec('default', 'p', 'c', ['sleep', '10'], {timeoutMs: 300, maxBytes: 1000})
    expect(slow).toMatchObject({timedOut: true, exitCode: null})
    // Cut at its timeout, well before the command's own 10 s (the margin is for a loaded machine).
    expect(Date.now() - t0).toBeLessThan(8000)
    // The server stopped the command when the client went away.
    await waitFor('the exec session to end', () => server.execSessions() === 0, {intervalMs: 20})
  })

  it('refuses exec with the real statuses: forbidden, no such pod, not running', async () => {
    const {client} = await start({faults: {forbid: [{verb: 'create', resource: 'pods/exec'}]}, podStartDelayMs: 60_000})
    await client.create('default', podManifest('p'))
    await expect(client.exec('default', 'p', 'c', ['true'], limits)).rejects.toThrow(/not allowed to create pods\/exec/)
    const other = await start({podStartDelayMs: 60_000})
    await other.client.create('default', podManifest('p'))
    await expect(other.client.exec('default', 'gone', 'c', ['true'], limits)).rejects.toMatchObject({kind: 'not-found'})
    await expect(other.client.exec('default', 'p', 'c', ['true'], limits)).rejects.toThrow(/HTTP 400/)
  })
})

describe('stand-in API server: exec framing on the wire', () => {
  async function session(s: ApiServer, protocol: string, command: string[], send: (ws: WebSocket) => void = () => undefined): Promise<{protocol: string; frames: number[][]; closeCode: number}> {
    const query = new URLSearchParams([...command.map((c): [string, string] => ['command', c]), ['container', 'c'], ['stdin', 'true'], ['stdout', 'true'], ['stderr', 'true']])
    const ws = new WebSocket(`${s.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/p/exec?${query}`, [protocol], {headers: {authorization: 'Bearer tok'}, ca: s.caPem})
    const frames: number[][] = []
    ws.on('message', (data: Buffer) => frames.push([...data]))
    await new Promise((resolve) => ws.once('open', resolve))
    send(ws)
    const closeCode = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    return {protocol: ws.protocol, frames, closeCode}
  }

  const text = (frame: number[] | undefined): string => Buffer.from(frame?.slice(1) ?? []).toString('utf8')

  it('v5: stdin frames on channel 0, [255, 0] closes stdin, output on 1 and 2, then the Status on 3', async () => {
    const {server: s, client} = await start()
    await client.create('default', podManifest('p'))
    await running(client, 'p')
    const r = await session(s, 'v5.channel.k8s.io', ['sh', '-c', 'cat; echo done >&2; exit 4'], (ws) => {
      ws.send(Buffer.from([0, ...Buffer.from('hello ')]))
      ws.send(Buffer.from([0, ...Buffer.from('world')]))
      ws.send(Buffer.from([255, 0]))
    })
    expect(r.protocol).toBe('v5.channel.k8s.io')
    const byChannel = (ch: number): string => r.frames.filter((f) => f[0] === ch).map(text).join('')
    expect(byChannel(1)).toBe('hello world')
    expect(byChannel(2)).toBe('done\n')
    expect(r.frames.at(-1)?.[0]).toBe(3)
    expect(JSON.parse(text(r.frames.at(-1)))).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c cat; echo done >&2; exit 4], exit code 4',
      reason: 'NonZeroExitCode',
      details: {causes: [{reason: 'ExitCode', message: '4'}]},
    })
    // The server never sends close frames of its own.
    expect(r.frames.some((f) => f[0] === 255)).toBe(false)
    expect(r.closeCode).toBe(1000)
  })

  it('v4: the same channels; a close frame means nothing, and success is {status: Success}', async () => {
    const {server: s, client} = await start({execProtocols: ['v4.channel.k8s.io']})
    await client.create('default', podManifest('p'))
    await running(client, 'p')
    const r = await session(s, 'v4.channel.k8s.io', ['sh', '-c', 'echo v4'], (ws) => ws.send(Buffer.from([255, 0])))
    expect(r.protocol).toBe('v4.channel.k8s.io')
    expect(r.frames.map((f) => [f[0], text(f)])).toEqual([
      [1, 'v4\n'],
      [3, '{"metadata":{},"status":"Success"}'],
    ])
    // A v5-only client is refused by a v4 server.
    const refused = new WebSocket(`${s.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/p/exec?command=true`, ['v5.channel.k8s.io'], {headers: {authorization: 'Bearer tok'}, ca: s.caPem})
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))
    expect(status).toBe(400)
  })
})
