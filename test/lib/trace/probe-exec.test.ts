/**
 * probeFromPod's own decisions, without namespaces (no root): a stand-in API server whose exec
 * hook runs the probe's argv on this host plays the source pod, and a TCP server on loopback is
 * the destination (::1 for IPv6). The tool ladder in each family, a Service's repeated attempts, what is refused before any
 * exec (an address with a zone, no port, a pod that is not running), and an RBAC refusal pointing at knet rbac --probe.
 */
import {spawn} from 'node:child_process'
import {createSocket} from 'node:dgram'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {notFoundError, startApiServer, type ApiServer, type ExecHook} from '../../../src/lib/apiserver/index.js'
import {openPodClient} from '../../../src/lib/gather/cluster/pods.js'
import {KnetError} from '../../../src/lib/report/errors.js'
import {probeFromPod} from '../../../src/lib/trace/probe-exec.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const absent = new Set<string>()
const hostExec: ExecHook = (ctx) =>
  new Promise((resolve) => {
    const [file, ...args] = ctx.command
    if (absent.has(file ?? '')) return resolve({error: notFoundError(file ?? '')})
    const child = spawn(file ?? '', args, {stdio: [ctx.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe']})
    if (ctx.stdin && child.stdin) ctx.stdin.pipe(child.stdin).on('error', () => undefined)
    child.stdout?.on('data', (c: Buffer) => ctx.stdout(c))
    child.stderr?.on('data', (c: Buffer) => ctx.stderr(c))
    ctx.signal.addEventListener('abort', () => child.kill('SIGKILL'), {once: true})
    child.on('error', () => resolve({error: notFoundError(file ?? '')}))
    child.on('close', (code) => resolve({exitCode: code ?? 137}))
  })

const pod = (name: string, phase: string) => ({apiVersion: 'v1', kind: 'Pod', metadata: {name, namespace: 'default'}, spec: {nodeName: 'node-1', containers: [{name: 'app', image: 'x'}]}, status: {phase}})
const objects = [{apiVersion: 'v1', kind: 'Node', metadata: {name: 'node-1'}}, pod('client', 'Running'), pod('waiting', 'Pending')]

function traced(port: number, overrides: Partial<TraceResult> = {}): TraceResult {
  const endpoint = (kind: 'pod', name: string, ip: string, p: number | null) => ({input: name, kind, name: `pod/default/${name}`, ip, port: p, node: 'node-1', evidence: []})
  return {
    schemaVersion: 1, source: endpoint('pod', 'client', '127.0.0.1', null), destination: endpoint('pod', 'server', '127.0.0.1', port), protocol: 'tcp', port, family: 4,
    verdict: 'delivered', reason: null, hops: [], nat: {dnat: [], masquerade: false}, branches: [], ...overrides,
  }
}

describe('probeFromPod (host tools, stand-in API)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-probe-exec-'))
  let api: ApiServer
  let forbidding: ApiServer
  let target: Server
  const sockets = new Set<import('node:net').Socket>()
  let port = 0
  let kubeconfig = ''
  beforeAll(async () => {
    target = createServer((s) => {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
      s.end('server\n')
    })
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()))
    port = (target.address() as {port: number}).port
    api = await startApiServer({objects, exec: hostExec})
    kubeconfig = api.writeKubeconfig(join(dir, 'kc'))
    forbidding = await startApiServer({objects, exec: hostExec, faults: {forbid: [{verb: 'create', resource: 'pods/exec'}]}})
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await Promise.all([api.close(), forbidding.close(), new Promise<void>((resolve) => target.close(() => resolve()))])
    rmSync(dir, {recursive: true, force: true})
  })
  const options = (kc = kubeconfig) => ({client: openPodClient({kubeconfig: kc, timeoutMs: 5000}), image: 'img', startTimeoutMs: 2000})

  it('the first tool present sends it; absent ones are skipped and named', async () => {
    absent.clear()
    expect(await probeFromPod(traced(port), options())).toEqual({observed: 'delivered', agrees: true, detail: '1 attempt: 1 delivered; answered by server', via: 'exec nc in pod/default/client (container app)'})
    absent.add('nc').add('curl')
    try {
      // wget writes the reply to /dev/null: delivered, but nobody named.
      expect(await probeFromPod(traced(port), options())).toEqual({
        observed: 'delivered', agrees: true, detail: '1 attempt: 1 delivered; skipped nc: not in the container; curl: not in the container', via: 'exec wget in pod/default/client (container app)',
      })
    } finally {
      absent.clear()
    }
  })

  it('a Service with several endpoints gets repeated attempts; a refusal is refused', async () => {
    absent.clear()
    const dnat = [1, 2].map((i) => ({ip: '127.0.0.1', port, probability: 0.5, endpoint: `pod/default/server-${i}`}))
    const svc = await probeFromPod(traced(port, {nat: {dnat, masquerade: false}}), options())
    expect([svc.observed, svc.agrees, svc.detail]).toEqual(['delivered', true, '12 attempts: 12 delivered'])
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()))
    const free = (closed.address() as {port: number}).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    expect(await probeFromPod(traced(free), options())).toEqual({observed: 'refused', agrees: false, detail: 'predicted delivered, but the real packet was refused (1 attempt: 1 refused; connection refused)', via: 'exec nc in pod/default/client (container app)'})
  })

  it('UDP to one target is sent again after no answer, up to 3 times, and one answer is delivered; a silent port is 3 timeouts', async () => {
    absent.clear()
    // A responder that lets the first datagram go unanswered, as a busy node may.
    const udp = createSocket('udp4')
    let seen = 0
    udp.on('message', (_m, from) => {
      if (++seen > 1) udp.send('server\n', from.port, from.address)
    })
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()))
    const udpPort = udp.address().port
    try {
      const r = await probeFromPod(traced(udpPort, {protocol: 'udp'}), options())
      expect([r.observed, r.agrees, seen]).toEqual(['delivered', true, 2])
      expect(r.detail).toMatch(/^2 attempts: 1 delivered, 1 timeout; answered by server; UDP sent again after no answer, up to 3 times/)
    } finally {
      udp.close()
    }
    const silent = createSocket('udp4')
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()))
    try {
      const r = await probeFromPod(traced(silent.address().port, {protocol: 'udp'}), options())
      expect([r.observed, r.agrees]).toEqual(['timeout', false])
      expect(r.detail).toMatch(/\(3 attempts: 3 timeout; UDP sent again after no answer, up to 3 times/)
    } finally {
      silent.close()
    }
  })

  it('an IPv6 destination is sent by each tool in turn (nc -6, curl and wget to [::1], bash), and by ping -6', async () => {
    const open = new Set<import('node:net').Socket>()
    const six = createServer((sock) => {
      open.add(sock)
      sock.on('close', () => open.delete(sock))
      sock.on('error', () => undefined)
      sock.end('server\n')
    })
    await new Promise<void>((resolve) => six.listen(0, '::1', () => resolve()))
    const p6 = (six.address() as {port: number}).port
    const to6 = (protocol: 'tcp' | 'icmp' = 'tcp') => traced(p6, {family: 6, protocol, ...(protocol === 'icmp' ? {port: null} : {}), destination: {...traced(p6).destination, ip: '::1', ...(protocol === 'icmp' ? {port: null} : {})}})
    const seen: string[] = []
    try {
      for (const gone of [[], ['nc'], ['nc', 'curl'], ['nc', 'curl', 'wget']]) {
        absent.clear()
        for (const t of gone) absent.add(t)
        const r = await probeFromPod(to6(), options())
        seen.push(`${r.via ?? ''}: ${r.observed}`)
      }
      absent.clear()
      const ping = await probeFromPod(to6('icmp'), options())
      seen.push(`${ping.via ?? ''}: ${ping.observed}`)
    } finally {
      absent.clear()
      for (const sock of open) sock.destroy()
      await new Promise<void>((resolve) => six.close(() => resolve()))
    }
    expect(seen).toEqual(['nc', 'curl', 'wget', 'bash', 'ping'].map((tool) => `exec ${tool} in pod/default/client (container app): delivered`))
  })

  it('what cannot be probed says why, before any exec', async () => {
    const before = api.requests.length
    expect(await probeFromPod(traced(port, {destination: {...traced(port).destination, ip: 'fe80::1%eth0'}}), options())).toMatchObject({observed: 'unknown', agrees: null, via: null, detail: 'no packet was sent: not an IPv4 or IPv6 address: "fe80::1%eth0"'})
    expect(await probeFromPod(traced(port, {port: null}), options())).toMatchObject({observed: 'unknown', detail: 'no packet was sent: not a port: null'})
    expect(api.requests.length).toBe(before)
    const waiting = traced(port, {source: {...traced(port).source, name: 'pod/default/waiting'}})
    expect(await probeFromPod(waiting, options())).toEqual({observed: 'unknown', agrees: null, via: null, detail: 'pod/default/waiting is Pending: no packet was sent'})
  })

  it('an RBAC refusal of the exec is one line pointing at knet rbac --probe', async () => {
    const kc = forbidding.writeKubeconfig(join(dir, 'kc-forbidden'))
    const e = (await probeFromPod(traced(port), options(kc)).catch((x: unknown) => x)) as KnetError
    expect(e).toBeInstanceOf(KnetError)
    expect([e.kind, e.exitCode]).toEqual(['forbidden', 3])
    expect(e.oneLine()).toMatch(/\(run `knet rbac --probe` for what trace --probe needs \(pods\/exec: create, get\)\)$/)
  })
})
