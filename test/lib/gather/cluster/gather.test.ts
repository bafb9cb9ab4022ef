import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {objectsFromYamlFile} from '../../../../src/lib/apiserver/load.js'
import {startApiServer, type ApiServer, type ApiServerOptions} from '../../../../src/lib/apiserver/server.js'
import {gatherCluster} from '../../../../src/lib/gather/cluster/gather.js'
import {KnetError} from '../../../../src/lib/report/errors.js'

const FIXTURE = join(import.meta.dirname, '../../../fixtures/cluster/kubeadm-3node.yaml')
const objects = objectsFromYamlFile(FIXTURE)

let dir: string
let server: ApiServer | undefined
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'knet-gather-'))
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function serve(options: Partial<ApiServerOptions> = {}): Promise<string> {
  server = await startApiServer({objects, tls: 'self-signed', token: 'secret-token', ...options})
  return server.writeKubeconfig(join(dir, `kc-${Math.random().toString(36).slice(2)}`))
}

async function gatherError(kubeconfig: string, timeoutMs = 60_000): Promise<KnetError> {
  const error = await gatherCluster({kubeconfig, timeoutMs}).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(KnetError)
  return error as KnetError
}

describe('gatherCluster against the stand-in API server', () => {
  it('captures the 3-node fixture cluster over HTTPS with a bearer token', async () => {
    const kubeconfig = await serve()
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.source).toBe('api')
    expect(evidence.server).toBe(server?.url)
    expect(evidence.context).toBe('knet-test')
    expect(evidence.serverVersion).toEqual({major: '1', minor: '31', gitVersion: 'v1.31.2'})
    const names = (list: unknown[]): string[] =>
      list.map((o) => {
        const m = (o as {metadata: {name: string; namespace?: string}}).metadata
        return m.namespace ? `${m.namespace}/${m.name}` : m.name
      })
    expect(names(evidence.objects.nodes)).toEqual(['cp-1', 'worker-1', 'worker-2'])
    expect(names(evidence.objects.pods)).toEqual([
      'kube-system/coredns-7c65d6cfc9-4xk2p',
      'kube-system/kube-proxy-8tq2w',
      'shop/batch-28829160-x7k2m',
      'shop/db-0',
      'shop/web-5d8f7b9c6-abcde',
      'shop/web-5d8f7b9c6-fghij',
    ])
    expect(names(evidence.objects.services)).toEqual(['default/kubernetes', 'kube-system/kube-dns', 'shop/db', 'shop/web'])
    expect(evidence.objects.endpointSlices).toHaveLength(4)
    expect(names(evidence.objects.networkPolicies)).toEqual(['shop/db-from-web', 'shop/default-deny-ingress'])
    expect(names(evidence.objects.daemonSets)).toEqual(['kube-system/calico-node', 'kube-system/kube-proxy'])
    expect(names(evidence.objects.namespaces ?? [])).toEqual(['default', 'kube-system', 'ops', 'shop'])
    expect((evidence.objects.kubeProxyConfigMap as {metadata: {name: string}}).metadata.name).toBe('kube-proxy')
    expect(evidence.errors).toEqual([])
    expect(evidence.ignoredKinds).toEqual({})
  })

  it('lists in pages with limit and continue', async () => {
    const kubeconfig = await serve()
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000, pageSize: 2})
    expect(evidence.objects.pods).toHaveLength(6)
    const podRequests = server!.requests.filter((r) => r.path === '/api/v1/pods')
    expect(podRequests.map((r) => [r.query.limit, r.query.continue === undefined ? 'first' : 'continued'])).toEqual([
      ['2', 'first'],
      ['2', 'continued'],
      ['2', 'continued'],
    ])
    // Pages share kept-alive connections instead of a TLS handshake each (client-node alone makes a
    // new agent per request); only the six optional reads, fetched concurrently, need their own.
    expect(server!.requests.length).toBe(17)
    expect(server!.connections()).toBeLessThanOrEqual(6)
  })

  it('never requests Secrets (the fixture holds one)', async () => {
    const kubeconfig = await serve()
    await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(server!.requests.length).toBeGreaterThan(5)
    expect(server!.requests.filter((r) => r.path.includes('/secrets'))).toEqual([])
  })

  it('restarts a list once when the continue token expires (410)', async () => {
    const kubeconfig = await serve({faults: {expireContinueOnce: true}})
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000, pageSize: 2})
    expect(evidence.objects.nodes).toHaveLength(3)
    expect(server!.requests.filter((r) => r.path === '/api/v1/nodes').map((r) => [r.status, r.query.continue === undefined])).toEqual([
      [200, true],
      [410, false],
      [200, true],
      [200, false],
    ])
  })

  it('401: credentials rejected, naming the server', async () => {
    const kubeconfig = await serve({faults: {status401: true}})
    const error = await gatherError(kubeconfig)
    expect(error.kind).toBe('unauthorized')
    expect(error.exitCode).toBe(3)
    expect(error.oneLine()).toBe(
      `credentials for ${server!.url} were rejected (expired?) (re-authenticate (e.g. refresh your cloud login or kubeconfig token) and retry)`,
    )
  })

  it('401 for a wrong token as well', async () => {
    server = await startApiServer({objects, tls: 'self-signed', token: 'right'})
    const kubeconfig = server.writeKubeconfig(join(dir, 'wrong-token'), {token: 'wrong'})
    expect((await gatherError(kubeconfig)).kind).toBe('unauthorized')
  })

  it('403 on pods is fatal and names the verb and resource', async () => {
    const kubeconfig = await serve({faults: {forbid: [{verb: 'list', resource: 'pods'}]}})
    const error = await gatherError(kubeconfig)
    expect(error.kind).toBe('forbidden')
    expect(error.verb).toBe('list')
    expect(error.resource).toBe('pods')
    expect(error.exitCode).toBe(3)
    expect(error.oneLine()).toBe('not allowed to list pods at the cluster scope (run `knet rbac` for the ClusterRole knet needs)')
  })

  it('403 on networkpolicies is recorded and the snapshot still comes back', async () => {
    const kubeconfig = await serve({faults: {forbid: [{verb: 'list', resource: 'networkpolicies'}]}})
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.objects.pods).toHaveLength(6)
    expect(evidence.objects.networkPolicies).toEqual([])
    expect(evidence.errors).toEqual([
      {
        source: 'networkpolicies',
        kind: 'forbidden',
        message: 'not allowed to list networkpolicies.networking.k8s.io at the cluster scope (run `knet rbac` for the ClusterRole knet needs)',
      },
    ])
  })

  it('a missing kube-proxy ConfigMap (404) is simply absent', async () => {
    server = await startApiServer({objects: objects.filter((o) => (o as {kind: string}).kind !== 'ConfigMap'), tls: 'self-signed'})
    const kubeconfig = server.writeKubeconfig(join(dir, 'no-cm'))
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.objects.kubeProxyConfigMap).toBeNull()
    expect(evidence.errors).toEqual([])
    expect(server.requests.find((r) => r.path.endsWith('/configmaps/kube-proxy'))?.status).toBe(404)
  })

  it('500 on a required resource is one line with the server message', async () => {
    const kubeconfig = await serve({faults: {status500: ['services']}})
    const error = await gatherError(kubeconfig)
    expect(error.kind).toBe('internal')
    expect(error.exitCode).toBe(3)
    expect(error.oneLine()).toBe(
      `list services on ${server!.url} failed with HTTP 500: Internal error occurred: etcdserver: request timed out (the API server reported an internal error; retry later)`,
    )
  })

  it('500 on an optional resource becomes a collection error', async () => {
    const kubeconfig = await serve({faults: {status500: ['daemonsets']}})
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.objects.daemonSets).toEqual([])
    expect(evidence.errors.map((e) => [e.source, e.kind])).toEqual([['daemonsets', 'internal']])
  })

  it('a required API group the server does not serve (404 on the list)', async () => {
    const kubeconfig = await serve({faults: {notServed: ['endpointslices']}})
    const error = await gatherError(kubeconfig)
    expect(error.kind).toBe('not-found')
    expect(error.exitCode).toBe(3)
    expect(error.oneLine()).toBe(
      `${server!.url} does not serve endpointslices.discovery.k8s.io (an API version this old or this trimmed is not supported) (knet needs Kubernetes 1.21 or newer (discovery.k8s.io/v1, networking.k8s.io/v1))`,
    )
  })

  it('unreachable: a closed port, naming the URL', async () => {
    const kubeconfig = await serve()
    const url = server!.url
    await server!.close()
    server = undefined
    const error = await gatherError(kubeconfig)
    expect(error.kind).toBe('unreachable')
    expect(error.exitCode).toBe(3)
    expect(error.oneLine()).toBe(
      `cannot reach the API server at ${url} (ECONNREFUSED) (check the cluster is up and the kubeconfig server address, VPN or proxy)`,
    )
  })

  it('TLS: a kubeconfig trusting the wrong CA', async () => {
    server = await startApiServer({objects, tls: 'self-signed'})
    const kubeconfig = server.writeKubeconfig(join(dir, 'wrong-ca'), {trust: 'wrong-ca'})
    const error = await gatherError(kubeconfig)
    expect(error.kind).toBe('tls')
    expect(error.exitCode).toBe(3)
    expect(error.oneLine()).toBe(
      `TLS handshake with ${server.url} failed: the server certificate is not signed by a trusted CA (check the kubeconfig's certificate-authority for this cluster)`,
    )
  })

  it('timeout: a slow required list, naming --timeout', async () => {
    // The slow list never answers within the test; every other request has the whole --timeout
    // (a loaded machine took the stand-in server past 500 ms for lists that were not delayed).
    const kubeconfig = await serve({faults: {delayMs: {nodes: 600_000}}})
    const error = await gatherError(kubeconfig, 5000)
    expect(error.kind).toBe('timeout')
    expect(error.exitCode).toBe(3)
    expect(error.oneLine()).toBe(`list nodes on ${server!.url} did not answer within 5s (--timeout) (raise --timeout or check the API server load)`)
  })

  it('timeout on an optional resource is recorded, not fatal', async () => {
    const kubeconfig = await serve({faults: {delayMs: {networkpolicies: 600_000}}})
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 5000})
    expect(evidence.objects.pods).toHaveLength(6)
    expect(evidence.errors.map((e) => [e.source, e.kind])).toEqual([['networkpolicies', 'timeout']])
  })

  it('works over plain HTTP too', async () => {
    server = await startApiServer({objects})
    const kubeconfig = server.writeKubeconfig(join(dir, 'http'))
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(evidence.objects.nodes).toHaveLength(3)
  })
})

describe('ServiceCIDRs (networking.k8s.io/v1, Kubernetes 1.33+)', () => {
  const serviceCIDR = (name: string, cidrs: string[]) => ({apiVersion: 'networking.k8s.io/v1', kind: 'ServiceCIDR', metadata: {name}, spec: {cidrs}})
  const withRanges = [...objects, serviceCIDR('kubernetes', ['10.96.0.0/16', 'fd00:10:96::/112']), serviceCIDR('extra', ['10.97.0.0/24'])]

  it('are listed cluster-wide in pages, as the server returns them', async () => {
    server = await startApiServer({objects: withRanges, tls: 'self-signed'})
    const kubeconfig = server.writeKubeconfig(join(dir, 'scidr'))
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000, pageSize: 1})
    expect(evidence.objects.serviceCIDRs).toEqual([
      {metadata: {name: 'extra'}, spec: {cidrs: ['10.97.0.0/24']}},
      {metadata: {name: 'kubernetes'}, spec: {cidrs: ['10.96.0.0/16', 'fd00:10:96::/112']}},
    ])
    expect(evidence.errors).toEqual([])
    expect(server.requests.filter((r) => r.path === '/apis/networking.k8s.io/v1/servicecidrs').map((r) => r.query.limit)).toEqual(['1', '1'])
  })

  it('a server that does not serve them (404, before 1.33) leaves them absent, with no error', async () => {
    const kubeconfig = await serve({faults: {notServed: ['servicecidrs']}})
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.objects.serviceCIDRs).toBeUndefined()
    expect(evidence.errors).toEqual([])
  })

  it('403 is a collection error naming verb and resource; the rest still comes back', async () => {
    const kubeconfig = await serve({faults: {forbid: [{verb: 'list', resource: 'servicecidrs'}]}})
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.objects.serviceCIDRs).toBeUndefined()
    expect(evidence.objects.pods).toHaveLength(6)
    expect(evidence.errors).toEqual([
      {
        source: 'servicecidrs',
        kind: 'forbidden',
        message: 'not allowed to list servicecidrs.networking.k8s.io at the cluster scope (run `knet rbac` for the ClusterRole knet needs)',
      },
    ])
  })
})

describe("Calico's IPAMBlocks (crd.projectcalico.org/v1)", () => {
  const block = (cidr: string, node: string) => ({
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'IPAMBlock',
    metadata: {name: cidr.replace(/[./]/g, '-')},
    spec: {cidr, affinity: `host:${node}`, allocations: [0, null], unallocated: [1], attributes: [{handle_id: 'k8s-pod-network.abc'}], strictAffinity: false, deleted: false},
  })
  const withBlocks = [...objects, block('10.244.1.0/26', 'worker-1'), block('10.244.2.0/26', 'worker-2')]

  it('are listed cluster-wide in pages, as the server returns them', async () => {
    server = await startApiServer({objects: withBlocks, tls: 'self-signed'})
    const kubeconfig = server.writeKubeconfig(join(dir, 'ipam'))
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000, pageSize: 1})
    // As served: a list's items carry no apiVersion or kind.
    expect(evidence.objects.ipamBlocks).toEqual([block('10.244.1.0/26', 'worker-1'), block('10.244.2.0/26', 'worker-2')].map(({metadata, spec}) => ({metadata, spec})))
    expect(evidence.errors).toEqual([])
    expect(server.requests.filter((r) => r.path === '/apis/crd.projectcalico.org/v1/ipamblocks').map((r) => r.query.limit)).toEqual(['1', '1'])
  })

  it('a cluster without Calico\'s CRDs (404) has none, with no error', async () => {
    const kubeconfig = await serve()
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.objects.ipamBlocks).toBeUndefined()
    expect(evidence.errors).toEqual([])
    expect(server!.requests.filter((r) => r.path === '/apis/crd.projectcalico.org/v1/ipamblocks').map((r) => r.status)).toEqual([404])
  })

  it('403 is a collection error naming verb and resource; the rest still comes back', async () => {
    const kubeconfig = await serve({objects: withBlocks, faults: {forbid: [{verb: 'list', resource: 'ipamblocks'}]}})
    const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000})
    expect(evidence.objects.ipamBlocks).toBeUndefined()
    expect(evidence.objects.nodes).toHaveLength(3)
    expect(evidence.errors).toEqual([
      {
        source: 'ipamblocks',
        kind: 'forbidden',
        message: 'not allowed to list ipamblocks.crd.projectcalico.org at the cluster scope (run `knet rbac` for the ClusterRole knet needs)',
      },
    ])
  })
})
