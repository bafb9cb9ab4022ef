/**
 * pods/NAME/ephemeralcontainers as kube-apiserver serves it: GET returns the Pod; PATCH takes a
 * strategic merge patch (the list merged by name, what kubectl debug sends) or a JSON merge patch
 * (the whole list). As on a real server, an ephemeral container can be added but never changed or
 * removed, its name must not clash with another container's, and the fields an ephemeral container
 * cannot have (ports, probes, resources, lifecycle) are refused with 422. A pod bound to a node
 * reports each new one running (status.ephemeralContainerStatuses) after the start delay.
 */
import * as status from './status.js'
import {findPod, POD_TYPE, type PodLifecycle} from './pods.js'
import {putObject} from './store.js'

type Json = Record<string, unknown>

export const STRATEGIC_MERGE = 'application/strategic-merge-patch+json'
export const MERGE_PATCH = 'application/merge-patch+json'
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const NOT_ALLOWED = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'resizePolicy'] as const

export function getEphemeral(life: PodLifecycle, namespace: string, name: string): [number, unknown] {
  const pod = findPod(life.store, namespace, name)
  return pod ? [200, {kind: 'Pod', apiVersion: 'v1', ...pod}] : [404, status.notFound('pods', name)]
}

export function patchEphemeral(life: PodLifecycle, namespace: string, name: string, contentType: string | undefined, body: string): [number, unknown] {
  const type = (contentType ?? '').split(';')[0]?.trim()
  if (type !== STRATEGIC_MERGE && type !== MERGE_PATCH) {
    return [415, {...status.badRequest(`the body of the request was in an unknown format - accepted media types include: ${STRATEGIC_MERGE}, ${MERGE_PATCH}`), reason: 'UnsupportedMediaType', code: 415}]
  }
  let patch: Json
  try {
    patch = JSON.parse(body) as Json
  } catch {
    return [400, status.badRequest('error decoding patch: invalid JSON')]
  }
  const pod = findPod(life.store, namespace, name)
  if (!pod) return [404, status.notFound('pods', name)]
  const spec = pod.spec as Json
  const before = (Array.isArray(spec.ephemeralContainers) ? spec.ephemeralContainers : []) as Json[]
  const given = (patch.spec as Json | undefined)?.ephemeralContainers
  if (given === undefined) return [200, {kind: 'Pod', apiVersion: 'v1', ...pod}]
  if (!Array.isArray(given) || given.some((c) => typeof c !== 'object' || c === null)) {
    return [422, status.invalid('Pod', name, 'spec.ephemeralContainers', '', 'must be a list of containers')]
  }
  const merged = type === STRATEGIC_MERGE ? mergeByName(before, given as Json[]) : (given as Json[])
  const problem = validate(spec, before, merged)
  if (problem) return [422, status.invalid('Pod', name, problem.field, problem.value, problem.detail)]
  spec.ephemeralContainers = merged
  putObject(life.store, POD_TYPE, namespace, name, pod)
  const added = merged.filter((c) => !before.some((b) => b.name === c.name)).map((c) => String(c.name))
  const uid = (pod.metadata as Json | undefined)?.uid
  if (typeof spec.nodeName === 'string' && (pod.status as Json | undefined)?.phase === 'Running') {
    life.later(() => startEphemeral(life, namespace, name, uid, added), life.startDelayMs(spec.nodeName))
  }
  return [200, {kind: 'Pod', apiVersion: 'v1', ...pod}]
}

/** patchMergeKey name: a container named in the patch replaces fields of the one with that name, a new name is appended. */
function mergeByName(before: Json[], patch: Json[]): Json[] {
  const out = before.map((c) => ({...c}))
  for (const p of patch) {
    const i = out.findIndex((c) => c.name === p.name)
    if (i >= 0) out[i] = {...out[i], ...p}
    else out.push(p)
  }
  return out
}

function validate(spec: Json, before: Json[], after: Json[]): {field: string; value: string; detail: string} | undefined {
  for (const b of before) {
    const now = after.find((c) => c.name === b.name)
    if (!now) return {field: 'spec.ephemeralContainers', value: String(b.name), detail: 'existing ephemeral containers may not be removed'}
    if (JSON.stringify(now) !== JSON.stringify(b)) return {field: 'spec.ephemeralContainers', value: String(b.name), detail: 'existing ephemeral containers may not be changed'}
  }
  const others = ((spec.containers ?? []) as Json[]).concat((spec.initContainers ?? []) as Json[]).map((c) => c.name)
  const seen = new Set<unknown>()
  for (const [i, c] of after.entries()) {
    const field = `spec.ephemeralContainers[${i}]`
    if (typeof c.name !== 'string' || !NAME.test(c.name) || c.name.length > 63) return {field: `${field}.name`, value: String(c.name ?? ''), detail: 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\''}
    if (others.includes(c.name) || seen.has(c.name)) return {field: `${field}.name`, value: c.name, detail: 'Duplicate value'}
    seen.add(c.name)
    if (typeof c.image !== 'string' || c.image === '') return {field: `${field}.image`, value: '', detail: 'Required value'}
    const bad = NOT_ALLOWED.find((f) => c[f] !== undefined)
    if (bad) return {field: `${field}.${bad}`, value: '', detail: 'Forbidden: cannot be set for an Ephemeral Container'}
  }
  return undefined
}

function startEphemeral(life: PodLifecycle, namespace: string, name: string, uid: unknown, names: string[]): void {
  const pod = findPod(life.store, namespace, name)
  if (!pod || (pod.metadata as Json | undefined)?.uid !== uid) return
  const spec = pod.spec as Json
  const st = (pod.status ?? {}) as Json
  const statuses = (Array.isArray(st.ephemeralContainerStatuses) ? st.ephemeralContainerStatuses : []) as Json[]
  const startedAt = life.now().toISOString()
  for (const n of names) {
    const c = ((spec.ephemeralContainers ?? []) as Json[]).find((e) => e.name === n)
    statuses.push({name: n, image: c?.image, imageID: '', ready: false, restartCount: 0, state: {running: {startedAt}}})
  }
  pod.status = {...st, ephemeralContainerStatuses: statuses}
  putObject(life.store, POD_TYPE, namespace, name, pod)
}

/** Whether container `name` of a stored pod can be exec'd into: a running regular container, or a running ephemeral one. */
export function execTarget(pod: Json, name: string): 'regular' | 'ephemeral' | 'ephemeral-not-running' | undefined {
  const spec = (pod.spec ?? {}) as Json
  if (((spec.containers ?? []) as Json[]).some((c) => c.name === name)) return 'regular'
  if (!((spec.ephemeralContainers ?? []) as Json[]).some((c) => c.name === name)) return undefined
  const statuses = ((pod.status as Json | undefined)?.ephemeralContainerStatuses ?? []) as {name?: string; state?: {running?: unknown}}[]
  return statuses.some((s) => s.name === name && s.state?.running) ? 'ephemeral' : 'ephemeral-not-running'
}
