/**
 * --objects: cluster state from `kubectl get … -o yaml|json` output instead of the API. Accepts a
 * kubectl List (YAML or JSON), multi-document YAML, a JSON array, or any mix of Lists inside those.
 * Each object is checked on its own: a malformed one is reported by its index and the rest load.
 * Secrets are dropped unread (counted, never stored): a dump of `kubectl get all,secrets` must not
 * leak credentials into a snapshot someone attaches to a ticket.
 */
import {readFile} from 'node:fs/promises'
import {parseAllDocuments} from 'yaml'
import type {CollectionError} from '../../report/collection-error.js'
import {badInput} from '../../report/errors.js'
import {emptyObjects, slimObject, type ClusterEvidence} from './evidence.js'

export async function readObjectsInput(pathOrDash: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (pathOrDash === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
    return Buffer.concat(chunks).toString('utf8')
  }
  try {
    return await readFile(pathOrDash, 'utf8')
  } catch (error) {
    const code = (error as {code?: string}).code
    throw badInput(`--objects: cannot read ${pathOrDash}${code ? ` (${code})` : ''}`, 'give a file written by `kubectl get … -o yaml`, or - for stdin', error)
  }
}

/** Documents in the text, in order; a document that failed to parse is an Error in its slot. */
function documents(text: string): unknown[] {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // JSON is valid YAML, but JSON.parse is an order of magnitude faster on large dumps.
    try {
      const value: unknown = JSON.parse(trimmed)
      return Array.isArray(value) ? value : [value]
    } catch {
      // Not one JSON value (e.g. concatenated objects): fall through to the YAML reader.
    }
  }
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) return new Error(doc.errors[0]?.message.split('\n')[0] ?? 'unparseable YAML')
    return doc.toJS() as unknown
  })
}

interface TypedObject {
  apiVersion?: unknown
  kind?: unknown
  metadata?: {name?: unknown; namespace?: unknown}
  items?: unknown
}

export function objectsFromText(text: string, file: string): ClusterEvidence {
  const evidence: ClusterEvidence = {source: 'objects-file', file, objects: emptyObjects(), ignoredKinds: {}, errors: []}
  let index = 0
  const error = (message: string): void => {
    evidence.errors.push({source: `objects[${index}]`, kind: 'bad-input', message})
  }
  const ignore = (kind: string): void => {
    evidence.ignoredKinds[kind] = (evidence.ignoredKinds[kind] ?? 0) + 1
  }
  const visit = (value: unknown, insideList: boolean): void => {
    if (value === null || value === undefined) {
      // An empty YAML document (a trailing '---') is not an object and not an error.
      if (!insideList) return
    }
    if (value instanceof Error) {
      error(`not valid YAML or JSON: ${value.message}`)
      index++
      return
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      error('not a Kubernetes object (expected a mapping with apiVersion and kind)')
      index++
      return
    }
    const obj = value as TypedObject
    if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
      for (const item of obj.items) visit(item, true)
      return
    }
    place(obj)
    index++
  }
  const place = (obj: TypedObject): void => {
    const kind = typeof obj.kind === 'string' ? obj.kind : undefined
    const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : undefined
    if (!kind || !apiVersion) return error('missing apiVersion or kind')
    if (kind === 'Secret') return ignore('Secret')
    if (typeof obj.metadata?.name !== 'string' || obj.metadata.name === '') return error(`${kind} without metadata.name`)
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : ''
    const namespace = typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : undefined
    const o = evidence.objects
    if (group === '' && kind === 'Node') o.nodes.push(slimObject(obj))
    else if (group === '' && kind === 'Pod') o.pods.push(slimObject(obj))
    else if (group === '' && kind === 'Service') o.services.push(slimObject(obj))
    else if (group === 'discovery.k8s.io' && kind === 'EndpointSlice') o.endpointSlices.push(slimObject(obj))
    else if (group === 'networking.k8s.io' && kind === 'NetworkPolicy') o.networkPolicies.push(slimObject(obj))
    else if (group === '' && kind === 'Namespace') (o.namespaces ??= []).push(slimObject(obj))
    else if (group === 'networking.k8s.io' && kind === 'ServiceCIDR') (o.serviceCIDRs ??= []).push(slimObject(obj))
    else if (group === 'crd.projectcalico.org' && kind === 'IPAMBlock') (o.ipamBlocks ??= []).push(slimObject(obj))
    else if (group === 'apps' && kind === 'DaemonSet') o.daemonSets.push(slimObject(obj))
    // Only the ConfigMap the API path reads; others may hold anything and are not knet's business.
    else if (group === '' && kind === 'ConfigMap' && namespace === 'kube-system' && obj.metadata.name === 'kube-proxy') o.kubeProxyConfigMap = slimObject(obj)
    else ignore(kind)
  }
  for (const doc of documents(text)) visit(doc, false)
  return evidence
}

export async function loadObjectsFromInput(pathOrDash: string, stdin?: NodeJS.ReadableStream): Promise<ClusterEvidence> {
  const text = await readObjectsInput(pathOrDash, stdin)
  const file = pathOrDash === '-' ? '(stdin)' : pathOrDash
  const evidence = objectsFromText(text, file)
  const loaded = Object.values(evidence.objects).some((v) => (Array.isArray(v) ? v.length > 0 : v !== null))
  const ignored = Object.keys(evidence.ignoredKinds).length > 0
  if (!loaded && !ignored) {
    const first: CollectionError | undefined = evidence.errors[0]
    throw badInput(
      first ? `--objects ${file}: no Kubernetes objects could be read (${first.source}: ${first.message})` : `--objects ${file} holds no Kubernetes objects`,
      'give the output of `kubectl get nodes,pods,svc,endpointslices,networkpolicies -A -o yaml`',
    )
  }
  return evidence
}
