/**
 * The two ways knet learns cluster state: the live API, or a file of kubectl output.
 *
 * Required resources — nodes, pods, services, endpointslices — are what every analysis stands on;
 * if any of them cannot be listed the run stops with one line and exit 3.
 * Optional resources — networkpolicies, namespaces, daemonsets, servicecidrs, Calico's ipamblocks,
 * the kube-system/kube-proxy ConfigMap, /version — only feed particular checks; when one is forbidden, missing, erroring or
 * slow, it becomes a collection error and those checks say "skipped: …". Failures that are about
 * the connection rather than the resource (unreachable, TLS, 401) stop the run wherever they occur.
 */
import type {CollectionError} from '../../report/collection-error.js'

import {apiErrorToKnet, type ApiCallContext} from './api-errors.js'
import {clientNodeSource, RESOURCE_NAMES, type ClusterSource, type ListResource} from './client.js'
import {emptyObjects, slimObject, type ClusterEvidence} from './evidence.js'
import {resolveKubeconfig} from './kubeconfig.js'
import {loadObjectsFromInput} from './objects-file.js'
import {httpStatusOf} from './api-errors.js'
import {listAll} from './paginate.js'

export interface GatherOptions {
  kubeconfig?: string
  context?: string
  timeoutMs: number
  pageSize?: number
  onProgress?: (msg: string) => void
}

export async function gatherCluster(opts: GatherOptions): Promise<ClusterEvidence> {
  const resolved = resolveKubeconfig({kubeconfig: opts.kubeconfig, context: opts.context})
  const source = clientNodeSource(resolved.kc, {server: resolved.server, context: resolved.context, timeoutMs: opts.timeoutMs})
  try {
    return await gatherFrom(source, opts)
  } finally {
    source.close()
  }
}

export function loadObjectsFile(pathOrDash: string, stdin?: NodeJS.ReadableStream): Promise<ClusterEvidence> {
  return loadObjectsFromInput(pathOrDash, stdin)
}

const FATAL_EVERYWHERE = new Set(['unreachable', 'tls', 'unauthorized'])

/** Gather through any ClusterSource (the API client, or a fake in tests). */
export async function gatherFrom(source: ClusterSource, opts: Omit<GatherOptions, 'kubeconfig' | 'context'>): Promise<ClusterEvidence> {
  const errors: CollectionError[] = []
  const objects = emptyObjects()
  const ctx = (verb: string, resource: string, name?: string): ApiCallContext => ({
    server: source.server,
    verb,
    resource,
    name,
    timeoutMs: opts.timeoutMs,
  })
  // Optional: keep going unless the failure is about the connection itself.
  const optional = async <T>(source: string, what: ApiCallContext, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run()
    } catch (error) {
      const knet = apiErrorToKnet(error, what)
      if (FATAL_EVERYWHERE.has(knet.kind)) throw knet
      errors.push({source, kind: knet.kind, message: knet.oneLine()})
      return undefined
    }
  }
  const list = async (resource: ListResource): Promise<unknown[]> => {
    try {
      return await listAll(source, resource, {
        pageSize: opts.pageSize,
        mapItem: slimObject,
        onPage: (r, soFar, remaining) => opts.onProgress?.(`listing ${r}: ${soFar}${remaining ? ` (+${remaining} to come)` : ''}`),
      })
    } catch (error) {
      throw apiErrorToKnet(error, ctx('list', RESOURCE_NAMES[resource]))
    }
  }

  opts.onProgress?.(`connecting to ${source.server}`)
  const serverVersion = await optional('version', ctx('get', 'version'), () => source.version())
  objects.nodes = await list('nodes')
  objects.pods = await list('pods')
  objects.services = await list('services')
  objects.endpointSlices = await list('endpointslices')
  const [networkPolicies, namespaces, daemonSets, kubeProxy, serviceCIDRs, ipamBlocks] = await Promise.all([
    optional('networkpolicies', ctx('list', RESOURCE_NAMES.networkpolicies), () => listAll(source, 'networkpolicies', {pageSize: opts.pageSize, mapItem: slimObject})),
    optional('namespaces', ctx('list', RESOURCE_NAMES.namespaces), () => listAll(source, 'namespaces', {pageSize: opts.pageSize, mapItem: slimObject})),
    optional('daemonsets', ctx('list', RESOURCE_NAMES.daemonsets), () => listAll(source, 'daemonsets', {pageSize: opts.pageSize, mapItem: slimObject})),
    optional('configmaps/kube-proxy', ctx('get', 'configmaps', 'kube-system/kube-proxy'), () => source.kubeProxyConfigMap()),
    // Servers before 1.33 (or with the API turned off) answer 404: not an error, the model then
    // assumes the Service range from the kubernetes Service's IP, as it always did.
    optional('servicecidrs', ctx('list', RESOURCE_NAMES.servicecidrs), () => listIfServed(source, 'servicecidrs', opts.pageSize)),
    // 404 means Calico's CRDs are not installed: no blocks to read, and nothing to report.
    optional('ipamblocks', ctx('list', RESOURCE_NAMES.ipamblocks), () => listIfServed(source, 'ipamblocks', opts.pageSize)),
  ])
  objects.networkPolicies = networkPolicies ?? []
  objects.daemonSets = daemonSets ?? []
  objects.namespaces = namespaces ?? []
  objects.kubeProxyConfigMap = kubeProxy ? slimObject(kubeProxy) : null
  if (serviceCIDRs) objects.serviceCIDRs = serviceCIDRs
  if (ipamBlocks) objects.ipamBlocks = ipamBlocks
  return {
    source: 'api',
    server: source.server,
    context: source.context,
    ...(serverVersion ? {serverVersion} : {}),
    objects,
    ignoredKinds: {},
    errors,
  }
}


/** A list that is null when the server does not serve the resource's API at all (404). */
async function listIfServed(source: ClusterSource, resource: ListResource, pageSize: number | undefined): Promise<unknown[] | null> {
  try {
    return await listAll(source, resource, {pageSize, mapItem: slimObject})
  } catch (error) {
    if (httpStatusOf(error) === 404) return null
    throw error
  }
}
