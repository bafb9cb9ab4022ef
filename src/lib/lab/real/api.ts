/**
 * The few API calls a real lab makes while it builds and while its hollow kubelet runs, through
 * @kubernetes/client-node: create (idempotent), read, list, merge-patch a status, delete, watch.
 */
import {request, type RequestOptions} from 'node:https'
import {CoreV1Api, CoordinationV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, Watch, setHeaderOptions, type KubernetesObject} from '@kubernetes/client-node'

export type Obj = KubernetesObject & Record<string, unknown>

export interface LabApi {
  kubeconfig: KubeConfig
  /** Create; an existing object of that name is left as it is. */
  ensure(manifest: Obj): Promise<void>
  read(apiVersion: string, kind: string, name: string, namespace?: string): Promise<Obj | undefined>
  list(apiVersion: string, kind: string, namespace?: string, query?: {labelSelector?: string; fieldSelector?: string}): Promise<{items: Obj[]; resourceVersion?: string}>
  remove(apiVersion: string, kind: string, name: string, namespace?: string, gracePeriodSeconds?: number): Promise<void>
  patchPodStatus(namespace: string, name: string, body: unknown): Promise<void>
  patchNodeStatus(name: string, body: unknown): Promise<void>
  renewLease(manifest: Obj & {metadata: {name: string; namespace: string}; spec: Record<string, unknown>}): Promise<void>
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (type: string, obj: Obj) => void, onDone: (error: unknown) => void): Promise<AbortController>
  /** GET /readyz: true once the API server serves. */
  ready(): Promise<boolean>
}

/** The HTTP status of a client-node error (ApiException.code), if any. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as {code?: unknown; statusCode?: unknown})?.code ?? (error as {statusCode?: unknown})?.statusCode
  return typeof code === 'number' ? code : undefined
}

export function labApi(kubeconfigPath: string): LabApi {
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfigPath)
  const objects = KubernetesObjectApi.makeApiClient(kc)
  const core = kc.makeApiClient(CoreV1Api)
  const coordination = kc.makeApiClient(CoordinationV1Api)
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
  const header = (apiVersion: string, kind: string, name: string, namespace?: string): Obj => ({apiVersion, kind, metadata: {name, ...(namespace ? {namespace} : {})}})
  return {
    kubeconfig: kc,
    async ensure(manifest) {
      try {
        await objects.create(manifest)
      } catch (error) {
        if (statusOf(error) !== 409) throw error
      }
    },
    async read(apiVersion, kind, name, namespace) {
      try {
        return (await objects.read(header(apiVersion, kind, name, namespace) as never)) as Obj
      } catch (error) {
        if (statusOf(error) === 404) return undefined
        throw error
      }
    },
    async list(apiVersion, kind, namespace, query = {}) {
      const r = await objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, query.fieldSelector, query.labelSelector)
      return {items: (r.items ?? []) as Obj[], ...(r.metadata?.resourceVersion ? {resourceVersion: r.metadata.resourceVersion} : {})}
    },
    async remove(apiVersion, kind, name, namespace, gracePeriodSeconds) {
      try {
        await objects.delete(header(apiVersion, kind, name, namespace), undefined, undefined, gracePeriodSeconds)
      } catch (error) {
        if (statusOf(error) !== 404) throw error
      }
    },
    async patchPodStatus(namespace, name, body) {
      await core.patchNamespacedPodStatus({name, namespace, body}, merge)
    },
    async patchNodeStatus(name, body) {
      await core.patchNodeStatus({name, body}, merge)
    },
    async renewLease(manifest) {
      const {name, namespace} = manifest.metadata
      try {
        await coordination.patchNamespacedLease({name, namespace, body: {spec: manifest.spec}}, merge)
      } catch (error) {
        if (statusOf(error) !== 404) throw error
        await coordination.createNamespacedLease({namespace, body: manifest as never})
      }
    },
    watch(path, query, onEvent, onDone) {
      return new Watch(kc).watch(path, query, (type, obj) => onEvent(type, obj as Obj), onDone)
    },
    async ready() {
      const cluster = kc.getCurrentCluster()
      if (!cluster) return false
      const url = new URL('/readyz', cluster.server)
      const options: RequestOptions = {method: 'GET', hostname: url.hostname, port: url.port, path: url.pathname, timeout: 5000}
      await kc.applyToHTTPSOptions(options)
      return new Promise((resolve) => {
        const req = request(options, (res) => {
          res.resume()
          resolve(res.statusCode === 200)
        })
        req.on('error', () => resolve(false))
        req.on('timeout', () => req.destroy())
        req.end()
      })
    },
  }
}
