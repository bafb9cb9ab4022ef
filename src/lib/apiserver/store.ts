/**
 * The stand-in server's objects, indexed the way etcd keys them (/registry/<resource>/<ns>/<name>)
 * so lists come back in the same order a real server returns them. Each item is serialised once at
 * load: pages of a 150,000-pod cluster are then string joins, not repeated JSON.stringify calls.
 */
import {RESOURCE_TYPES, typeForKind, type ResourceType} from './resources.js'

export interface StoredObject {
  namespace: string
  name: string
  json: string
}

export interface ObjectStore {
  resourceVersion: string
  byResource: Map<string, StoredObject[]>
  /** Objects of kinds the server does not serve, counted rather than rejected. */
  skipped: number
}

interface Meta {
  name?: unknown
  namespace?: unknown
}

export function buildStore(objects: readonly unknown[], resourceVersion = '1000'): ObjectStore {
  const byResource = new Map<string, StoredObject[]>(RESOURCE_TYPES.map((t) => [t.resource, []]))
  let skipped = 0
  for (const raw of objects) {
    if (typeof raw !== 'object' || raw === null) {
      skipped++
      continue
    }
    const obj = raw as {apiVersion?: unknown; kind?: unknown; metadata?: Meta}
    const type = typeForKind(obj.apiVersion, obj.kind)
    const name = obj.metadata?.name
    if (!type || typeof name !== 'string') {
      skipped++
      continue
    }
    const namespace = type.namespaced && typeof obj.metadata?.namespace === 'string' ? obj.metadata.namespace : type.namespaced ? 'default' : ''
    // Real list responses omit each item's apiVersion and kind; the List carries them.
    const {apiVersion: _a, kind: _k, ...rest} = obj
    const item = type.namespaced ? {...rest, metadata: {...rest.metadata, namespace}} : rest
    byResource.get(type.resource)?.push({namespace, name, json: JSON.stringify(item)})
  }
  for (const list of byResource.values()) {
    list.sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)))
  }
  return {resourceVersion, byResource, skipped}
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function itemsOf(store: ObjectStore, type: ResourceType, namespace?: string): StoredObject[] {
  const all = store.byResource.get(type.resource) ?? []
  return namespace === undefined ? all : all.filter((o) => o.namespace === namespace)
}
