/**
 * The stand-in server's pods/NAME/ephemeralcontainers, as `trace --probe` uses it through
 * client-node (unmodified): a strategic merge patch adds a container that turns running after the
 * start delay and can then be exec'd into; what a real server refuses (removing or changing one, a
 * clashing name, ports, an unknown patch type, RBAC) is refused the same way. And the netns exec
 * hook's "missing tools": containerd's words for a binary a container lacks, never for an
 * ephemeral container. No root needed: commands run on this host.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, describe, expect, it} from 'vitest'
import {netnsExecHook, notFoundError, startApiServer, type ApiServer, type ApiServerOptions, type ExecContext, type ExecHook} from '../../../src/lib/apiserver/index.js'
import {openPodClient, type PodClient} from '../../../src/lib/gather/cluster/pods.js'
import {KnetError} from '../../../src/lib/report/errors.js'
import {waitFor} from '../../helpers/wait.js'

/** Runs argv on this host, as a container runtime would in the pod; records which container ran it. */
const ran: {container: string; ephemeral: boolean; command: string[]}[] = []
const hostExec: ExecHook = (ctx) =>
  new Promise((resolve) => {
    ran.push({container: ctx.container, ephemeral: ctx.ephemeral, command: ctx.command})
    const [file, ...args] = ctx.command
    const child = spawn(file ?? '', args, {stdio: ['ignore', 'pipe', 'pipe']})
    child.stdout?.on('data', (c: Buffer) => ctx.stdout(c))
    child.on('error', () => resolve({error: notFoundError(file ?? '')}))
    child.on('close', (code) => resolve({exitCode: code ?? 137}))
  })

const objects = [
  {apiVersion: 'v1', kind: 'Node', metadata: {name: 'node-1'}, status: {addresses: [{type: 'InternalIP', address: '10.100.0.2'}]}},
  {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'app', namespace: 'default', uid: 'u-app'}, spec: {nodeName: 'node-1', containers: [{name: 'main', image: 'distroless'}]}, status: {phase: 'Running', podIP: '10.244.1.5'}},
]

const dir = mkdtempSync(join(tmpdir(), 'knet-ephemeral-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))
let server: ApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(options: Partial<ApiServerOptions> = {}): Promise<{server: ApiServer; client: PodClient; kc: string}> {
  server = await startApiServer({objects, token: 'tok', exec: hostExec, podStartDelayMs: 50, ...options})
  const kc = server.writeKubeconfig(join(dir, `kc-${Math.random().toString(36).slice(2)}`))
  return {server, client: openPodClient({kubeconfig: kc, timeoutMs: 60_000}), kc}
}

const debug = {name: 'knet-probe-1', image: 'netshoot', command: ['sleep', '300'], targetContainerName: 'main'}

async function patch(s: ApiServer, contentType: string, body: unknown): Promise<{status: number; body: {message?: string; reason?: string}}> {
  const r = await fetch(`${s.url}/api/v1/namespaces/default/pods/app/ephemeralcontainers`, {method: 'PATCH', headers: {authorization: 'Bearer tok', 'content-type': contentType}, body: JSON.stringify(body)})
  return {status: r.status, body: (await r.json()) as {message?: string}}
}

describe('stand-in API server: ephemeral containers', () => {
  it('adds one by strategic merge, reports it running after the delay, and execs in it', async () => {
    // A start delay long enough that "not running yet" is observable even on a loaded machine
    // (two CI runs on two cores): the exec below is one local request after the patch.
    const {server, client} = await start({podStartDelayMs: 5000})
    const added = await client.addEphemeralContainer('default', 'app', debug)
    expect(added.ephemeral).toEqual([{name: 'knet-probe-1', image: 'netshoot', state: 'unknown'}])
    expect(added.containers).toEqual(['main'])
    // Not running yet: exec is refused as the kubelet refuses it.
    await expect(client.exec('default', 'app', 'knet-probe-1', ['true'], {timeoutMs: 60_000, maxBytes: 100})).rejects.toThrow(/400|container not found/)
    const state = await waitFor('the ephemeral container to run', async () => {
      const now = (await client.get('default', 'app'))?.ephemeral
      return now?.[0]?.state === 'running' && now
    })
    expect(state).toEqual([{name: 'knet-probe-1', image: 'netshoot', state: 'running'}])
    ran.length = 0
    expect(await client.exec('default', 'app', 'knet-probe-1', ['echo', 'hi'], {timeoutMs: 60_000, maxBytes: 100})).toMatchObject({stdout: 'hi\n', exitCode: 0})
    expect(ran).toEqual([{container: 'knet-probe-1', ephemeral: true, command: ['echo', 'hi']}])
    // A second one is appended (merge by name); the first stays as it was.
    await client.addEphemeralContainer('default', 'app', {...debug, name: 'knet-probe-2'})
    expect((await client.get('default', 'app'))?.ephemeral.map((e) => e.name)).toEqual(['knet-probe-1', 'knet-probe-2'])
    expect(server.requests.filter((r) => r.method === 'PATCH').map((r) => [r.path, r.status])).toEqual([
      ['/api/v1/namespaces/default/pods/app/ephemeralcontainers', 200],
      ['/api/v1/namespaces/default/pods/app/ephemeralcontainers', 200],
    ])
  })

  it('refuses what a real server refuses', async () => {
    const {server: s, client} = await start()
    await client.addEphemeralContainer('default', 'app', debug)
    // A JSON merge patch replaces the list: leaving one out would remove it, changing one would change it.
    expect(await patch(s, 'application/merge-patch+json', {spec: {ephemeralContainers: []}})).toMatchObject({status: 422, body: {message: expect.stringContaining('existing ephemeral containers may not be removed')}})
    expect(await patch(s, 'application/merge-patch+json', {spec: {ephemeralContainers: [{...debug, image: 'other'}]}})).toMatchObject({status: 422, body: {message: expect.stringContaining('may not be changed')}})
    expect(await patch(s, 'application/merge-patch+json', {spec: {ephemeralContainers: [debug, {...debug, name: 'x2'}]}})).toMatchObject({status: 200})
    expect(await patch(s, 'application/strategic-merge-patch+json', {spec: {ephemeralContainers: [{name: 'main', image: 'x'}]}})).toMatchObject({status: 422, body: {message: expect.stringContaining('Duplicate value')}})
    expect(await patch(s, 'application/strategic-merge-patch+json', {spec: {ephemeralContainers: [{name: 'p', image: 'x', ports: [{containerPort: 80}]}]}})).toMatchObject({status: 422, body: {message: expect.stringContaining('cannot be set for an Ephemeral Container')}})
    expect(await patch(s, 'application/json-patch+json', [{op: 'add', path: '/spec/ephemeralContainers/-', value: debug}])).toMatchObject({status: 415, body: {reason: 'UnsupportedMediaType'}})
    await expect(client.addEphemeralContainer('default', 'gone', debug)).rejects.toThrow('pod default/gone does not exist')
  })

  it('an RBAC refusal names the verb and resource and points at knet rbac --probe', async () => {
    const {client} = await start({faults: {forbid: [{verb: 'patch', resource: 'pods/ephemeralcontainers'}]}})
    const e = (await client.addEphemeralContainer('default', 'app', debug).catch((x: unknown) => x)) as KnetError
    expect(e).toBeInstanceOf(KnetError)
    expect([e.kind, e.verb, e.resource, e.exitCode]).toEqual(['forbidden', 'patch', 'pods/ephemeralcontainers', 3])
    expect(e.oneLine()).toMatch(/^not allowed to patch pods\/ephemeralcontainers.*\(run `knet rbac --probe` for what trace --probe needs \(pods\/ephemeralcontainers: patch\)\)$/)
  })
})

describe('netns exec hook: tools a container lacks', () => {
  const ctx = (command: string[], ephemeral: boolean): ExecContext => ({
    namespace: 'default', pod: {metadata: {name: 'app'}, spec: {nodeName: 'node-1'}}, node: 'node-1', container: ephemeral ? 'knet-probe-1' : 'main', ephemeral, command,
    stdin: null, stdout: () => undefined, stderr: () => undefined, signal: new AbortController().signal,
  })

  it("fails the way containerd does for a missing binary, in the pod's own containers only", async () => {
    const hook = netnsExecHook({netnsFor: () => undefined, podNetnsFor: () => 'no-such-netns-knet', missing: (ns, name) => (`${ns}/${name}` === 'default/app' ? ['nc', 'curl'] : [])})
    expect(await hook(ctx(['nc', '-v', '-w', '2', '10.0.0.1', '80'], false))).toEqual({error: notFoundError('nc')})
    expect(notFoundError('nc')).toMatch(/OCI runtime exec failed: exec failed: unable to start container process: exec: "nc": executable file not found in \$PATH: unknown$/)
    // Not missing (or in the ephemeral container): the command really runs — here in a namespace that does not exist.
    expect(await hook(ctx(['nc', '-h'], true))).not.toEqual({error: notFoundError('nc')})
    const noWorkloads = netnsExecHook({netnsFor: () => undefined})
    expect(await noWorkloads(ctx(['true'], false))).toEqual({error: "this stand-in runs commands only in hostNetwork pods (the node's own network namespace)"})
  })
})
