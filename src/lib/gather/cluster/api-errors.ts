/**
 * The single place where failures talking to the Kubernetes API become KnetErrors. client-node
 * surfaces them in three shapes, all handled here:
 * - HTTP errors: ApiException {code, body, headers}; body is the Status object as text (client-node
 *   leaves it unparsed), except for 401 where the generated code drops the body entirely.
 *   client.ts also captures the raw body itself and passes it as `status`.
 * - network and TLS errors: node-fetch FetchError {type: 'system', code: 'ECONNREFUSED' | 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' | …}.
 * - timeouts: node-fetch AbortError (name 'AbortError') when the request's AbortSignal fires.
 */
import {KnetError} from '../../report/errors.js'

export interface ApiCallContext {
  /** The API server URL, named in unreachable/TLS/401 messages. */
  server: string
  verb: string
  /** Plural resource ("pods", "endpointslices.discovery.k8s.io"). */
  resource: string
  /** For gets: the object's namespace/name. */
  name?: string
  timeoutMs: number
}

/** The Status object (or its absence) that came with an HTTP error. */
export interface ApiStatus {
  code?: number
  reason?: string
  message?: string
  details?: {name?: string; group?: string; kind?: string}
}

/** An HTTP-level failure from the API, carrying the Status body client.ts captured. */
export class ApiHttpError extends Error {
  constructor(
    readonly code: number,
    readonly status: ApiStatus | undefined,
    options: {cause?: unknown} = {},
  ) {
    super(status?.message ?? `HTTP ${code}`, options)
    this.name = 'ApiHttpError'
  }
}

export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiHttpError) return error.code
  const code = (error as {code?: unknown} | null)?.code
  return typeof code === 'number' ? code : undefined
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE'])

// Node's TLS error codes (OpenSSL verify results plus Node's own hostname check).
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
])

export function apiErrorToKnet(error: unknown, ctx: ApiCallContext): KnetError {
  if (error instanceof KnetError) return error
  const what = `${ctx.verb} ${ctx.resource}${ctx.name ? ` ${ctx.name}` : ''}`
  const code = httpStatusOf(error)
  if (code !== undefined) return httpError(code, statusOf(error), ctx, what, error)

  const name = (error as {name?: unknown} | null)?.name
  const type = (error as {type?: unknown} | null)?.type
  if (name === 'AbortError' || name === 'TimeoutError' || type === 'aborted') {
    return new KnetError('timeout', `${what} on ${ctx.server} did not answer within ${seconds(ctx.timeoutMs)}`, {
      suggestion: 'raise --timeout or check the API server load',
      cause: error,
    })
  }
  const text = error instanceof Error ? error.message : ''
  if (text.startsWith('HTTP protocol is not allowed')) {
    return new KnetError('bad-input', `the kubeconfig's server ${ctx.server} is plain HTTP, which client-node only accepts with insecure-skip-tls-verify: true`, {
      suggestion: 'use the https:// address, or set insecure-skip-tls-verify: true for this cluster if plain HTTP is really intended',
      cause: error,
    })
  }
  const syscall = (error as {syscall?: unknown} | null)?.syscall
  if (typeof syscall === 'string' && syscall.startsWith('spawn')) {
    // client-node runs users[].exec credential plugins (aws, gke-gcloud-auth-plugin, kubelogin…).
    const command = syscall.slice('spawn '.length) || 'the credential plugin'
    return new KnetError('unauthorized', `the kubeconfig's credential plugin "${command}" could not be run (${systemCode(error) ?? 'error'})`, {
      suggestion: 'install it or fix users[].user.exec.command in the kubeconfig',
      cause: error,
    })
  }
  const sysCode = systemCode(error)
  if (sysCode && TLS_CODES.has(sysCode)) {
    return new KnetError('tls', `TLS handshake with ${ctx.server} failed: ${tlsReason(sysCode, error)}`, {
      suggestion: "check the kubeconfig's certificate-authority for this cluster",
      cause: error,
    })
  }
  if (sysCode && UNREACHABLE_CODES.has(sysCode)) {
    return new KnetError('unreachable', `cannot reach the API server at ${ctx.server} (${sysCode})`, {
      suggestion: 'check the cluster is up and the kubeconfig server address, VPN or proxy',
      cause: error,
    })
  }
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
  return new KnetError('internal', `${what} on ${ctx.server} failed: ${message}`, {
    suggestion: 'run again with --debug for details',
    cause: error,
  })
}

function httpError(code: number, status: ApiStatus | undefined, ctx: ApiCallContext, what: string, cause: unknown): KnetError {
  if (code === 401) {
    return new KnetError('unauthorized', `credentials for ${ctx.server} were rejected (expired?)`, {
      suggestion: 're-authenticate (e.g. refresh your cloud login or kubeconfig token) and retry',
      cause,
    })
  }
  if (code === 403) {
    const resource = forbiddenResource(status, ctx)
    return new KnetError('forbidden', `not allowed to ${ctx.verb} ${resource}${scopeOf(status)}`, {
      verb: ctx.verb,
      resource,
      suggestion: 'run `knet rbac` for the ClusterRole knet needs',
      cause,
    })
  }
  if (code === 404 && ctx.verb === 'list') {
    // A list 404s only when the server does not serve that API group/version at all.
    return new KnetError('not-found', `${ctx.server} does not serve ${ctx.resource} (an API version this old or this trimmed is not supported)`, {
      suggestion: 'knet needs Kubernetes 1.21 or newer (discovery.k8s.io/v1, networking.k8s.io/v1)',
      cause,
    })
  }
  if (code === 404) {
    return new KnetError('not-found', `${ctx.resource}${ctx.name ? ` ${ctx.name}` : ''} was not found on ${ctx.server}`, {cause})
  }
  if (code === 410) {
    return new KnetError('internal', `${what}: the server expired the list's continue token twice`, {
      suggestion: 'the cluster is changing fast or the list is very slow; retry, or raise --timeout',
      cause,
    })
  }
  const reason = status?.message ? `: ${status.message.split('\n')[0]}` : ''
  return new KnetError('internal', `${what} on ${ctx.server} failed with HTTP ${code}${reason}`, {
    suggestion: code >= 500 ? 'the API server reported an internal error; retry later' : 'run again with --debug for details',
    cause,
  })
}

function forbiddenResource(status: ApiStatus | undefined, ctx: ApiCallContext): string {
  const kind = status?.details?.kind
  const group = status?.details?.group
  if (kind) return group ? `${kind}.${group}` : kind
  return ctx.resource
}

function scopeOf(status: ApiStatus | undefined): string {
  const m = /(at the cluster scope|in the namespace "[^"]*")/.exec(status?.message ?? '')
  return m ? ` ${m[1]}` : ''
}

function statusOf(error: unknown): ApiStatus | undefined {
  if (error instanceof ApiHttpError) return error.status
  const body = (error as {body?: unknown}).body
  return parseStatus(body)
}

/** Read a Status object from an ApiException body (string or object) or a raw response text. */
export function parseStatus(body: unknown): ApiStatus | undefined {
  let value = body
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body)
    } catch {
      return body.trim() ? {message: body.trim()} : undefined
    }
  }
  if (typeof value !== 'object' || value === null) return undefined
  const s = value as Record<string, unknown>
  const details = typeof s.details === 'object' && s.details !== null ? (s.details as ApiStatus['details']) : undefined
  return {
    code: typeof s.code === 'number' ? s.code : undefined,
    reason: typeof s.reason === 'string' ? s.reason : undefined,
    message: typeof s.message === 'string' ? s.message : undefined,
    details,
  }
}

function systemCode(error: unknown): string | undefined {
  // node-fetch puts the system error's code on the FetchError; the original is also kept as cause/erroredSysCall.
  let current: unknown = error
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as {code?: unknown}).code
    if (typeof code === 'string') return code
    current = (current as {cause?: unknown}).cause
  }
  return undefined
}

function tlsReason(code: string, error: unknown): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'the certificate does not name this host'
  if (code === 'CERT_HAS_EXPIRED') return 'the server certificate has expired'
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'the server did not speak TLS'
  if (code.includes('SELF_SIGNED') || code.includes('VERIFY') || code.includes('ISSUER')) return 'the server certificate is not signed by a trusted CA'
  return error instanceof Error ? error.message.split('\n')[0] ?? code : code
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s (--timeout)` : `${ms}ms (--timeout)`
}
