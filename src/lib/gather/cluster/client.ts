/**
 * The narrow interface knet uses to read a cluster, and its one implementation over
 * @kubernetes/client-node (the only module that imports it). Only list pages, one named ConfigMap
 * and /version are needed; nothing here can write, and nothing can name Secrets.
 *
 * client-node's generated APIs deserialise responses into model classes, which drops fields its
 * model does not know and turns timestamps into Dates. knet stores objects as the API returned
 * them, so a per-call middleware captures each response's raw text and hands client-node a stub
 * body to deserialise instead (also sparing a second parse of every 500-pod page).
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  NetworkingV1Api,
  Observable,
  ResponseContext,
  VersionApi,
  type ConfigurationOptions,
  type KubeConfig,
  type RequestContext,
} from '@kubernetes/client-node'
import {Agent as HttpAgent} from 'node:http'
import {Agent as HttpsAgent} from 'node:https'
import {ApiHttpError, parseStatus} from './api-errors.js'

/** The lists knet reads, each across all namespaces. */
export type ListResource = 'nodes' | 'namespaces' | 'pods' | 'services' | 'endpointslices' | 'networkpolicies' | 'daemonsets' | 'servicecidrs' | 'ipamblocks'

/** RBAC-style names for messages: plural resource plus group. */
export const RESOURCE_NAMES: Record<ListResource, string> = {
  nodes: 'nodes',
  namespaces: 'namespaces',
  pods: 'pods',
  services: 'services',
  endpointslices: 'endpointslices.discovery.k8s.io',
  networkpolicies: 'networkpolicies.networking.k8s.io',
  daemonsets: 'daemonsets.apps',
  servicecidrs: 'servicecidrs.networking.k8s.io',
  ipamblocks: 'ipamblocks.crd.projectcalico.org',
}

export interface ListPage {
  items: unknown[]
  resourceVersion?: string
  continue?: string
  remainingItemCount?: number
}

export interface ServerVersion {
  major: string
  minor: string
  gitVersion: string
}

export interface ClusterSource {
  readonly server: string
  readonly context: string
  listPage(resource: ListResource, page: {limit: number; continue?: string}): Promise<ListPage>
  /** kube-system/kube-proxy, or null when the server says 404. */
  kubeProxyConfigMap(): Promise<unknown | null>
  version(): Promise<ServerVersion>
  /** Release pooled connections. */
  close(): void
}

export function clientNodeSource(kc: KubeConfig, opts: {server: string; context: string; timeoutMs: number}): ClusterSource {
  const core = kc.makeApiClient(CoreV1Api)
  const discovery = kc.makeApiClient(DiscoveryV1Api)
  const networking = kc.makeApiClient(NetworkingV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  const versionApi = kc.makeApiClient(VersionApi)
  const custom = kc.makeApiClient(CustomObjectsApi)

  const pool = agentPool()

  // Runs one client-node call with a timeout and raw-body capture; returns the parsed raw JSON.
  const call = async (invoke: (options: ConfigurationOptions) => Promise<unknown>): Promise<unknown> => {
    const capture = rawCapture(opts.timeoutMs, pool.reuse)
    try {
      await invoke({middleware: [capture.middleware], middlewareMergeStrategy: 'append'})
    } catch (error) {
      // HTTP errors: rethrow with the Status body we captured (client-node drops it for 401).
      if (capture.status !== undefined && (capture.status < 200 || capture.status > 299)) {
        throw new ApiHttpError(capture.status, parseStatus(capture.text), {cause: error})
      }
      throw error
    }
    return JSON.parse(capture.text ?? 'null') as unknown
  }

  const listCalls: Record<ListResource, (p: {limit: number; _continue?: string}, o: ConfigurationOptions) => Promise<unknown>> = {
    nodes: (p, o) => core.listNode(p, o),
    namespaces: (p, o) => core.listNamespace(p, o),
    pods: (p, o) => core.listPodForAllNamespaces(p, o),
    services: (p, o) => core.listServiceForAllNamespaces(p, o),
    endpointslices: (p, o) => discovery.listEndpointSliceForAllNamespaces(p, o),
    networkpolicies: (p, o) => networking.listNetworkPolicyForAllNamespaces(p, o),
    // All namespaces, not just kube-system: current flannel runs in kube-flannel, the Calico operator in calico-system.
    daemonsets: (p, o) => apps.listDaemonSetForAllNamespaces(p, o),
    // Cluster-scoped; networking.k8s.io/v1 since Kubernetes 1.33 (older servers answer 404).
    servicecidrs: (p, o) => networking.listServiceCIDR(p, o),
    // Calico's IPAM blocks: a CRD, cluster-scoped; a cluster without Calico's CRDs answers 404.
    ipamblocks: (p, o) => custom.listClusterCustomObject({group: 'crd.projectcalico.org', version: 'v1', plural: 'ipamblocks', ...p}, o),
  }

  return {
    server: opts.server,
    context: opts.context,
    async listPage(resource, page) {
      const params = page.continue ? {limit: page.limit, _continue: page.continue} : {limit: page.limit}
      const list = (await call((o) => listCalls[resource](params, o))) as {
        items?: unknown
        metadata?: {resourceVersion?: string; continue?: string; remainingItemCount?: number}
      } | null
      return {
        items: Array.isArray(list?.items) ? list.items : [],
        resourceVersion: list?.metadata?.resourceVersion,
        continue: list?.metadata?.continue || undefined,
        remainingItemCount: list?.metadata?.remainingItemCount,
      }
    },
    async kubeProxyConfigMap() {
      try {
        return await call((o) => core.readNamespacedConfigMap({name: 'kube-proxy', namespace: 'kube-system'}, o))
      } catch (error) {
        if (error instanceof ApiHttpError && error.code === 404) return null
        throw error
      }
    },
    async version() {
      const v = (await call((o) => versionApi.getCode({}, o))) as Partial<ServerVersion> | null
      return {major: String(v?.major ?? ''), minor: String(v?.minor ?? ''), gitVersion: String(v?.gitVersion ?? '')}
    },
    close: pool.close,
  }
}

/**
 * client-node builds a fresh https.Agent for every request, so each page of a 120-page pod list
 * would pay a new TCP and TLS handshake. The first agent's options (CA, client cert) are the
 * kubeconfig's and do not change within a run, so one keep-alive agent with the same options
 * serves them all. Proxy agents are left alone.
 */
function agentPool(): {reuse: (ctx: RequestContext) => void; close: () => void} {
  let shared: HttpAgent | undefined
  return {
    reuse(ctx) {
      const agent = ctx.getAgent() as HttpAgent | undefined
      if (!agent || (agent.constructor !== HttpsAgent && agent.constructor !== HttpAgent)) return
      if (!shared) {
        const options = (agent as HttpAgent & {options: object}).options
        shared = agent.constructor === HttpsAgent ? new HttpsAgent({...options, keepAlive: true}) : new HttpAgent({...options, keepAlive: true})
      }
      ctx.setAgent(shared)
    },
    close() {
      shared?.destroy()
      shared = undefined
    },
  }
}

type Middleware = NonNullable<ConfigurationOptions['middleware']>[number]

interface Capture {
  middleware: Middleware
  status?: number
  text?: string
}

function rawCapture(timeoutMs: number, reuseAgent: (ctx: RequestContext) => void): Capture {
  const capture: Capture = {
    middleware: {
      // The object-parameter APIs take client-node's Observable middleware (a thin promise wrapper).
      pre(ctx: RequestContext) {
        // client-node has no per-request timeout option; its fetch honours the context's AbortSignal.
        ctx.setSignal(AbortSignal.timeout(timeoutMs))
        reuseAgent(ctx)
        return new Observable(Promise.resolve(ctx))
      },
      post(rsp: ResponseContext) {
        return new Observable(
          rsp.body.text().then((text) => {
            capture.status = rsp.httpStatusCode
            capture.text = text
            const ok = rsp.httpStatusCode >= 200 && rsp.httpStatusCode <= 299
            const handedOn = ok ? '{}' : text
            return new ResponseContext(rsp.httpStatusCode, rsp.headers, {
              text: async () => handedOn,
              binary: async () => Buffer.from(handedOn),
            })
          }),
        )
      },
    },
  }
  return capture
}
