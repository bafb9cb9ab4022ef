import {request as httpsRequest} from 'node:https'
import {afterEach, describe, expect, it} from 'vitest'
import {startApiServer, type ApiServer, type ApiServerOptions} from '../../../src/lib/apiserver/server.js'

const node = (name: string): unknown => ({apiVersion: 'v1', kind: 'Node', metadata: {name}, spec: {podCIDR: '10.244.0.0/24'}})
const pod = (namespace: string, name: string): unknown => ({apiVersion: 'v1', kind: 'Pod', metadata: {namespace, name}, status: {phase: 'Running'}})
const objects = [node('n2'), node('n1'), node('n3'), pod('b', 'p1'), pod('a', 'p2'), pod('a', 'p1'), {apiVersion: 'v1', kind: 'Secret', metadata: {namespace: 'a', name: 's'}}]

let server: ApiServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(options: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  server = await startApiServer({objects, ...options})
  return server
}

async function get(s: ApiServer, path: string, token?: string): Promise<{status: number; body: Record<string, unknown> | string}> {
  const res = await fetch(`${s.url}${path}`, {headers: token ? {authorization: `Bearer ${token}`} : {}})
  const text = await res.text()
  try {
    return {status: res.status, body: JSON.parse(text) as Record<string, unknown>}
  } catch {
    return {status: res.status, body: text}
  }
}

const itemNames = (body: unknown): string[] =>
  ((body as {items: {metadata: {namespace?: string; name: string}}[]}).items ?? []).map((i) => (i.metadata.namespace ? `${i.metadata.namespace}/${i.metadata.name}` : i.metadata.name))

describe('stand-in API server', () => {
  it('lists in etcd key order as a typed List, items without apiVersion/kind', async () => {
    const s = await start()
    const {status, body} = await get(s, '/api/v1/pods')
    expect(status).toBe(200)
    expect(body).toEqual({
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: {resourceVersion: '1000'},
      items: [
        {metadata: {namespace: 'a', name: 'p1'}, status: {phase: 'Running'}},
        {metadata: {namespace: 'a', name: 'p2'}, status: {phase: 'Running'}},
        {metadata: {namespace: 'b', name: 'p1'}, status: {phase: 'Running'}},
      ],
    })
  })

  it('pages with limit, continue and remainingItemCount', async () => {
    const s = await start()
    const first = await get(s, '/api/v1/nodes?limit=2')
    const meta = (first.body as {metadata: {continue?: string; remainingItemCount?: number; resourceVersion: string}}).metadata
    expect(itemNames(first.body)).toEqual(['n1', 'n2'])
    expect(meta.remainingItemCount).toBe(1)
    expect(meta.continue).toMatch(/^[A-Za-z0-9_-]+$/)
    const second = await get(s, `/api/v1/nodes?limit=2&continue=${meta.continue}`)
    expect(itemNames(second.body)).toEqual(['n3'])
    expect((second.body as {metadata: Record<string, unknown>}).metadata).toEqual({resourceVersion: '1000'})
  })

  it('caps pages at pageSizeLimit even without a limit', async () => {
    const s = await start({pageSizeLimit: 1})
    expect(itemNames((await get(s, '/api/v1/nodes')).body)).toEqual(['n1'])
  })

  it('serves namespaced lists and named gets, with real 404 Status objects', async () => {
    const s = await start()
    expect(itemNames((await get(s, '/api/v1/namespaces/a/pods')).body)).toEqual(['a/p1', 'a/p2'])
    const one = await get(s, '/api/v1/namespaces/b/pods/p1')
    expect(one.body).toMatchObject({kind: 'Pod', apiVersion: 'v1', metadata: {name: 'p1', namespace: 'b'}})
    expect((await get(s, '/api/v1/namespaces/kube-system/configmaps/kube-proxy')).body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "kube-proxy" not found',
      reason: 'NotFound',
      details: {name: 'kube-proxy', kind: 'configmaps'},
      code: 404,
    })
    expect(await get(s, '/apis/example.com/v1/widgets')).toEqual({status: 404, body: '404 page not found\n'})
  })

  it('refuses Secrets with 403 always, and logs the attempt', async () => {
    const s = await start()
    const res = await get(s, '/api/v1/namespaces/a/secrets')
    expect(res).toEqual({
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'secrets is forbidden: User "system:serviceaccount:knet:knet" cannot list resource "secrets" in API group "" in the namespace "a"',
        reason: 'Forbidden',
        details: {kind: 'secrets'},
        code: 403,
      },
    })
    expect(s.requests).toEqual([{method: 'GET', path: '/api/v1/namespaces/a/secrets', query: {}, status: 403}])
  })

  it('forbids by verb and resource with the real message shape', async () => {
    const s = await start({user: 'alice', faults: {forbid: [{verb: 'list', resource: 'networkpolicies'}]}})
    expect((await get(s, '/apis/networking.k8s.io/v1/networkpolicies')).body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'networkpolicies.networking.k8s.io is forbidden: User "alice" cannot list resource "networkpolicies" in API group "networking.k8s.io" at the cluster scope',
      reason: 'Forbidden',
      details: {group: 'networking.k8s.io', kind: 'networkpolicies'},
      code: 403,
    })
  })

  it('checks bearer tokens and answers 401 Status', async () => {
    const s = await start({token: 'sekret'})
    expect((await get(s, '/api/v1/nodes')).body).toEqual({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401})
    expect((await get(s, '/api/v1/nodes', 'sekret')).status).toBe(200)
  })

  it('expires the first continue token once with 410 Expired carrying a new token', async () => {
    const s = await start({faults: {expireContinueOnce: true}})
    const token = ((await get(s, '/api/v1/nodes?limit=1')).body as {metadata: {continue: string}}).metadata.continue
    const expired = await get(s, `/api/v1/nodes?limit=1&continue=${token}`)
    expect(expired.status).toBe(410)
    expect(expired.body).toMatchObject({kind: 'Status', reason: 'Expired', code: 410, metadata: {continue: token}})
    expect((await get(s, `/api/v1/nodes?limit=1&continue=${token}`)).status).toBe(200)
  })

  it('answers 500 InternalError and delays on request', async () => {
    const s = await start({faults: {status500: ['pods'], delayMs: {nodes: 150}}})
    expect((await get(s, '/api/v1/pods')).body).toMatchObject({reason: 'InternalError', code: 500, message: 'Internal error occurred: etcdserver: request timed out'})
    const t = performance.now()
    expect((await get(s, '/api/v1/nodes')).status).toBe(200)
    expect(performance.now() - t).toBeGreaterThanOrEqual(140)
  })

  it('serves discovery documents and /version', async () => {
    const s = await start()
    expect((await get(s, '/version')).body).toMatchObject({major: '1', minor: '31', gitVersion: 'v1.31.2'})
    expect((await get(s, '/api')).body).toMatchObject({kind: 'APIVersions', versions: ['v1']})
    const groups = (await get(s, '/apis')).body as {groups: {name: string}[]}
    expect(groups.groups.map((g) => g.name)).toEqual(['discovery.k8s.io', 'networking.k8s.io', 'apps'])
    const core = (await get(s, '/api/v1')).body as {resources: {name: string; namespaced: boolean}[]}
    expect(core.resources.find((r) => r.name === 'pods')).toMatchObject({namespaced: true})
  })

  it("serves a custom resource (Calico's IPAMBlocks) only when it holds some, as if its CRD were installed", async () => {
    const path = '/apis/crd.projectcalico.org/v1/ipamblocks'
    const without = await start()
    expect((await get(without, path)).status).toBe(404)
    expect(((await get(without, '/apis')).body as {groups: {name: string}[]}).groups.map((g) => g.name)).not.toContain('crd.projectcalico.org')
    expect((await get(without, '/apis/crd.projectcalico.org/v1')).status).toBe(404)
    await without.close()
    const block = {apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock', metadata: {name: '10-244-1-0-26'}, spec: {cidr: '10.244.1.0/26', affinity: 'host:n1'}}
    const s = await start({objects: [...objects, block]})
    expect((await get(s, path)).body).toEqual({kind: 'IPAMBlockList', apiVersion: 'crd.projectcalico.org/v1', metadata: {resourceVersion: '1000'}, items: [{metadata: block.metadata, spec: block.spec}]})
    expect(((await get(s, '/apis')).body as {groups: {name: string}[]}).groups.map((g) => g.name)).toContain('crd.projectcalico.org')
    expect(((await get(s, '/apis/crd.projectcalico.org/v1')).body as {resources: {name: string; namespaced: boolean}[]}).resources).toEqual([
      {name: 'ipamblocks', singularName: 'ipamblock', namespaced: false, kind: 'IPAMBlock', verbs: ['get', 'list']},
    ])
  })

  it('serves HTTPS with the committed certificate for 127.0.0.1, trusted via the test CA', async () => {
    const s = await start({tls: 'self-signed'})
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const status = await new Promise<number>((resolve, reject) => {
      httpsRequest(`${s.url}/version`, {ca: s.caPem}, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
        .on('error', reject)
        .end()
    })
    expect(status).toBe(200)
  })
})
