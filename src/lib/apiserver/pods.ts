/**
 * Pods written through the stand-in server: create (with the PodSecurity admission check a real
 * server runs), delete, and the one lifecycle step knet waits for — a pod bound to a known node
 * becomes Running after a configurable delay (nothing is scheduled: a pod without spec.nodeName,
 * or naming a node the server does not know, stays Pending, as it would with no kubelet there).
 */
import {randomBytes, randomUUID} from 'node:crypto'
import {podSecurityViolations} from './pod-security.js'
import {typeForPath, type ResourceType} from './resources.js'
import * as status from './status.js'
import {itemsOf, putObject, removeObject, type ObjectStore} from './store.js'

export const POD_TYPE = typeForPath('', 'v1', 'pods') as ResourceType
const NAMESPACE_TYPE = typeForPath('', 'v1', 'namespaces') as ResourceType
const NODE_TYPE = typeForPath('', 'v1', 'nodes') as ResourceType

const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const SUBDOMAIN_HELP =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"

export interface PodLifecycle {
  store: ObjectStore
  /** Pending → Running after this many ms on the pod's node (default 100). */
  startDelayMs: (node: string) => number
  /** Run fn later; the server cancels what is still pending when it closes. */
  later(fn: () => void, ms: number): void
  now(): Date
}

type Json = Record<string, unknown>

export function createPod(life: PodLifecycle, namespace: string, body: unknown): [number, unknown] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [400, status.badRequest('the body of the request was in an unknown format')]
  const pod = structuredClone(body) as Json
  const meta = (typeof pod.metadata === 'object' && pod.metadata !== null ? pod.metadata : {}) as Json
  if (pod.kind !== undefined && pod.kind !== 'Pod') return [400, status.badRequest(`the kind "${String(pod.kind)}" does not match "Pod"`)]
  if (meta.namespace !== undefined && meta.namespace !== namespace) {
    return [400, status.badRequest('the namespace of the provided object does not match the namespace sent on the request')]
  }
  let name = typeof meta.name === 'string' ? meta.name : ''
  if (!name && typeof meta.generateName === 'string') name = `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`
  if (!SUBDOMAIN.test(name)) return [422, status.invalid('Pod', name, 'metadata.name', name, SUBDOMAIN_HELP)]
  const namespaces = itemsOf(life.store, NAMESPACE_TYPE)
  const ns = namespaces.find((n) => n.name === namespace)
  // A server holding no Namespace objects at all (small test fixtures) accepts any namespace.
  if (namespaces.length > 0 && !ns) return [404, status.notFound('namespaces', namespace)]
  if (itemsOf(life.store, POD_TYPE, namespace).some((o) => o.name === name)) return [409, status.alreadyExists('pods', name)]
  const spec = (typeof pod.spec === 'object' && pod.spec !== null ? pod.spec : {}) as Json
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    return [422, status.invalid('Pod', name, 'spec.containers', '', 'Required value')]
  }
  const nsLabels = ns ? ((JSON.parse(ns.json) as {metadata?: {labels?: Record<string, string>}}).metadata?.labels ?? {}) : {}
  const level = nsLabels['pod-security.kubernetes.io/enforce']
  if (level === 'baseline' || level === 'restricted') {
    const version = nsLabels['pod-security.kubernetes.io/enforce-version'] ?? 'latest'
    const violations = podSecurityViolations(spec, level)
    if (violations.length > 0) return [403, status.forbiddenBecause('pods', name, `violates PodSecurity "${level}:${version}": ${violations.join(', ')}`)]
  }
  const uid = randomUUID()
  const stored: Json = {
    ...pod,
    metadata: {...meta, name, namespace, uid, creationTimestamp: life.now().toISOString()},
    spec,
    status: {phase: 'Pending', qosClass: 'BestEffort'},
  }
  delete stored.apiVersion
  delete stored.kind
  putObject(life.store, POD_TYPE, namespace, name, stored)
  const node = typeof spec.nodeName === 'string' ? itemsOf(life.store, NODE_TYPE).find((n) => n.name === spec.nodeName) : undefined
  if (node) life.later(() => startPod(life, namespace, name, uid, node.json), life.startDelayMs(node.name))
  return [201, {kind: 'Pod', apiVersion: 'v1', ...stored}]
}

export function deletePod(life: PodLifecycle, namespace: string, name: string): [number, unknown] {
  const removed = removeObject(life.store, POD_TYPE, namespace, name)
  if (!removed) return [404, status.notFound('pods', name)]
  return [200, {kind: 'Pod', apiVersion: 'v1', ...(JSON.parse(removed.json) as Json)}]
}

export function findPod(store: ObjectStore, namespace: string, name: string): Json | undefined {
  const found = itemsOf(store, POD_TYPE, namespace).find((o) => o.name === name)
  return found ? (JSON.parse(found.json) as Json) : undefined
}

function startPod(life: PodLifecycle, namespace: string, name: string, uid: string, nodeJson: string): void {
  const pod = findPod(life.store, namespace, name)
  // Deleted (or deleted and re-created) before it started: nothing to do.
  if (!pod || (pod.metadata as Json | undefined)?.uid !== uid) return
  const spec = pod.spec as Json
  const addresses = ((JSON.parse(nodeJson) as {status?: {addresses?: {type?: string; address?: string}[]}}).status?.addresses ?? [])
  const hostIP = addresses.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1'
  const startedAt = life.now().toISOString()
  const containers = (spec.containers as {name?: string; image?: string}[]) ?? []
  pod.status = {
    phase: 'Running',
    hostIP,
    podIP: spec.hostNetwork === true ? hostIP : '10.0.0.1',
    startTime: startedAt,
    qosClass: 'BestEffort',
    conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({type, status: 'True', lastTransitionTime: startedAt})),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: true,
      started: true,
      restartCount: 0,
      state: {running: {startedAt}},
    })),
  }
  putObject(life.store, POD_TYPE, namespace, name, pod)
}
