/**
 * Status objects shaped exactly as kube-apiserver returns them, because knet's error mapping reads
 * `reason`, `details.kind` and `message` from them and must be tested against the real shapes.
 */
export interface StatusObject {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: {continue?: string}
  status: 'Failure'
  message: string
  reason: string
  details?: {name?: string; group?: string; kind?: string; causes?: {message: string}[]}
  code: number
}

function failure(code: number, reason: string, message: string, details?: StatusObject['details']): StatusObject {
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? {details} : {}), code}
}

export function unauthorized(): StatusObject {
  return failure(401, 'Unauthorized', 'Unauthorized')
}

export interface ForbiddenRequest {
  user: string
  verb: string
  resource: string
  group: string
  namespace?: string
  name?: string
}

export function forbidden(r: ForbiddenRequest): StatusObject {
  // The real server names non-core resources group-qualified: networkpolicies.networking.k8s.io.
  const qualified = r.group === '' ? r.resource : `${r.resource}.${r.group}`
  const subject = r.name === undefined ? qualified : `${qualified} "${r.name}"`
  const scope = r.namespace === undefined ? 'at the cluster scope' : `in the namespace "${r.namespace}"`
  const message = `${subject} is forbidden: User "${r.user}" cannot ${r.verb} resource "${r.resource}" in API group "${r.group}" ${scope}`
  return failure(403, 'Forbidden', message, {
    ...(r.name === undefined ? {} : {name: r.name}),
    ...(r.group === '' ? {} : {group: r.group}),
    kind: r.resource,
  })
}

export function notFound(resource: string, name: string, group = ''): StatusObject {
  return failure(404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`, {
    name,
    ...(group === '' ? {} : {group}),
    kind: resource,
  })
}

export function expired(continueToken: string): StatusObject {
  const status = failure(
    410,
    'Expired',
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
  )
  status.metadata = {continue: continueToken}
  return status
}

export function internalError(detail: string): StatusObject {
  return failure(500, 'InternalError', `Internal error occurred: ${detail}`, {causes: [{message: detail}]})
}

export function badRequest(message: string): StatusObject {
  return failure(400, 'BadRequest', message)
}

export function alreadyExists(resource: string, name: string): StatusObject {
  return failure(409, 'AlreadyExists', `${resource} "${name}" already exists`, {name, kind: resource})
}

/** 422 as the API returns it for a field that fails validation. */
export function invalid(kind: string, name: string, field: string, value: string, detail: string): StatusObject {
  return failure(422, 'Invalid', `${kind} "${name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`, {
    name,
    kind,
    causes: [{message: `Invalid value: ${JSON.stringify(value)}: ${detail}`}],
  })
}

/** A 403 whose message is not RBAC's (admission plugins such as PodSecurity). */
export function forbiddenBecause(resource: string, name: string, reason: string): StatusObject {
  return failure(403, 'Forbidden', `${resource} "${name}" is forbidden: ${reason}`, {name, kind: resource})
}
