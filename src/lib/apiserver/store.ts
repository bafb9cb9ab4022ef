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

/** Insert or replace one object (pods created through the API); bumps the store's resourceVersion. */
export function putObject(store: ObjectStore, type: ResourceType, namespace: string, name: string, item: {metadata?: unknown}): string {
  const rv = bumpResourceVersion(store)
  if (typeof item.metadata === 'object' && item.metadata !== null) (item.metadata as {resourceVersion?: string}).resourceVersion = rv
  const json = JSON.stringify(item)
  const list = store.byResource.get(type.resource) ?? []
  store.byResource.set(type.resource, list)
  const at = list.findIndex((o) => o.namespace === namespace && o.name === name)
  if (at >= 0) {
    list[at] = {namespace, name, json}
    return rv
  }
  // Keep etcd key order without re-sorting the whole list.
  let index = list.findIndex((o) => (o.namespace === namespace ? cmp(o.name, name) > 0 : cmp(o.namespace, namespace) > 0))
  if (index < 0) index = list.length
  list.splice(index, 0, {namespace, name, json})
  return rv
}

export function removeObject(store: ObjectStore, type: ResourceType, namespace: string, name: string): StoredObject | undefined {
  const list = store.byResource.get(type.resource) ?? []
  const at = list.findIndex((o) => o.namespace === namespace && o.name === name)
  if (at < 0) return undefined
  const [removed] = list.splice(at, 1)
  bumpResourceVersion(store)
  return removed
}

function bumpResourceVersion(store: ObjectStore): string {
  store.resourceVersion = String(Number(store.resourceVersion) + 1)
  return store.resourceVersion
}
