/**
 * Pods and pods/exec through client-node (unmodified): what `--node-access pod` needs to create,
 * watch and delete its short-lived node pods, what `agent` needs to find a DaemonSet's pod on a
 * node, and Exec over WebSocket for both. The exit status comes from the exec status channel (a
 * Status object), as kubectl reads it. Every failure becomes a KnetError here (api-errors.ts), and a
 * PodSecurity admission rejection gets its own message naming the way out.
 */
import {CoreV1Api, Exec, Observable, PatchStrategy, setHeaderOptions, type ConfigurationOptions, type KubeConfig, type RequestContext, type ResponseContext, type V1Pod, type V1Status} from '@kubernetes/client-node'
import {PassThrough, Writable, type Readable} from 'node:stream'
import {KnetError} from '../../report/errors.js'
import {ApiHttpError, apiErrorToKnet, httpStatusOf, parseStatus} from './api-errors.js'
import {resolveKubeconfig} from './kubeconfig.js'

export interface PodState {
  namespace: string
  name: string
  node?: string
  phase?: string
  labels: Record<string, string>
  hostNetwork: boolean
  containers: string[]
  /** Why the first waiting container is not running yet (ErrImagePull, CreateContainerConfigError…). */
  waiting?: {reason: string; message?: string}
  deleting: boolean
  /** kubectl's default container (annotation kubectl.kubernetes.io/default-container), when set. */
  defaultContainer?: string
  /** Ephemeral containers (kubectl debug's, knet's probe container) and what state each is in. */
  ephemeral: EphemeralState[]
}

export interface EphemeralState {
  name: string
  image?: string
  state: 'running' | 'waiting' | 'terminated' | 'unknown'
  /** waiting/terminated: the runtime's reason (ErrImagePull, Completed…). */
  reason?: string
}

export interface ExecLimits {
  timeoutMs: number
  maxBytes: number
  signal?: AbortSignal
  /** Sent on the exec's stdin (which stays open until the command ends: v4 cannot half-close it). */
  stdin?: string
}

export interface ExecOutput {
  stdout: string
  stderr: string
  /** From the status channel; null when the command did not run to an exit code. */
  exitCode: number | null
  /** The runtime could not run the command (its Status message), or the stream broke. */
  error?: string
  timedOut: boolean
  truncated: boolean
}

export interface PodClient {
  readonly server: string
  create(namespace: string, manifest: Record<string, unknown>): Promise<PodState>
  get(namespace: string, name: string): Promise<PodState | null>
  /** namespace undefined: all namespaces. */
  list(namespace: string | undefined, labelSelector: string): Promise<PodState[]>
  /** False when the pod was already gone. Never aborted by the run's signal: cleanup must finish. */
  delete(namespace: string, name: string): Promise<boolean>
  exec(namespace: string, name: string, container: string, argv: readonly string[], limits: ExecLimits): Promise<ExecOutput>
  /**
   * Add an ephemeral container (PATCH pods/NAME/ephemeralcontainers, a strategic merge by name, as
   * kubectl debug does). It can never be removed from the pod; its command decides when it stops.
   */
  addEphemeralContainer(namespace: string, name: string, container: Record<string, unknown>): Promise<PodState>
}

export function openPodClient(options: {kubeconfig?: string; context?: string; timeoutMs: number}): PodClient {
  const {kc, server} = resolveKubeconfig({kubeconfig: options.kubeconfig, context: options.context})
  return podClient(kc, server, options.timeoutMs)
}

export function podClient(kc: KubeConfig, server: string, timeoutMs: number): PodClient {
  const core = kc.makeApiClient(CoreV1Api)
  const exec = new Exec(kc)
  const opts = (): ConfigurationOptions => ({middleware: [timeoutMiddleware(timeoutMs)], middlewareMergeStrategy: 'append'})
  const ctx = (verb: string, resource: string, name?: string) => ({server, verb, resource, timeoutMs, ...(name === undefined ? {} : {name})})

  return {
    server,
    async create(namespace, manifest) {
      const name = String((manifest.metadata as {name?: unknown} | undefined)?.name ?? '')
      try {
        return podState(await core.createNamespacedPod({namespace, body: manifest as V1Pod}, opts()))
      } catch (error) {
        if (httpStatusOf(error) === 404) {
          throw new KnetError('not-found', `namespace ${namespace} does not exist on ${server}`, {suggestion: 'pass --debug-namespace with an existing namespace', cause: error})
        }
        throw podSecurityError(error, namespace, name) ?? withRbacHint(apiErrorToKnet(error, ctx('create', 'pods', `${namespace}/${name}`)))
      }
    },
    async get(namespace, name) {
      try {
        return podState(await core.readNamespacedPod({namespace, name}, opts()))
      } catch (error) {
        if (httpStatusOf(error) === 404) return null
        throw apiErrorToKnet(error, ctx('get', 'pods', `${namespace}/${name}`))
      }
    },
    async list(namespace, labelSelector) {
      try {
        const list = namespace === undefined ? await core.listPodForAllNamespaces({labelSelector}, opts()) : await core.listNamespacedPod({namespace, labelSelector}, opts())
        return list.items.map(podState)
      } catch (error) {
        throw apiErrorToKnet(error, ctx('list', 'pods'))
      }
    },
    async delete(namespace, name) {
      try {
        // Grace 0: the pod only sleeps, and a leftover object would only confuse the next run.
        await core.deleteNamespacedPod({namespace, name, gracePeriodSeconds: 0}, opts())
        return true
      } catch (error) {
        if (httpStatusOf(error) === 404) return false
        throw withRbacHint(apiErrorToKnet(error, ctx('delete', 'pods', `${namespace}/${name}`)))
      }
    },
    exec: (namespace, name, container, argv, limits) => runExec(exec, server, timeoutMs, namespace, name, container, argv, limits),
    async addEphemeralContainer(namespace, name, container) {
      try {
        const body = {spec: {ephemeralContainers: [container]}}
        const patched = await core.patchNamespacedPodEphemeralcontainers({namespace, name, body}, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch, opts()))
        return podState(patched)
      } catch (error) {
        if (httpStatusOf(error) === 404) throw new KnetError('not-found', `pod ${namespace}/${name} does not exist on ${server} (or the server does not serve ephemeral containers)`, {cause: error})
        const known = podSecurityError(error, namespace, name) ?? apiErrorToKnet(error, ctx('patch', 'pods/ephemeralcontainers', `${namespace}/${name}`))
        if (known.kind !== 'forbidden' || known.message.includes('PodSecurity')) throw known
        throw new KnetError('forbidden', known.message, {verb: 'patch', resource: 'pods/ephemeralcontainers', suggestion: 'run `knet rbac --probe` for what trace --probe needs (pods/ephemeralcontainers: patch)', cause: error})
      }
    },
  }
}

async function runExec(
  exec: Exec,
  server: string,
  apiTimeoutMs: number,
  namespace: string,
  name: string,
  container: string,
  argv: readonly string[],
  limits: ExecLimits,
): Promise<ExecOutput> {
  let truncated = false
  let timedOut = false
  let status: V1Status | undefined
  let socket: ExecSocket | undefined
  const cut = (): void => {
    truncated = true
    if (socket) stop(socket)
  }
  const stdout = collector(limits.maxBytes, cut)
  const stderr = collector(limits.maxBytes, cut)
  const cancelled: ExecOutput = {stdout: '', stderr: '', exitCode: null, error: 'cancelled', timedOut: false, truncated: false}
  if (limits.signal?.aborted) return cancelled
  let gaveUp = false
  const stdin = limits.stdin === undefined ? null : openStdin(limits.stdin)
  const connecting = exec.exec(namespace, name, container, [...argv], stdout.stream, stderr.stream, stdin, false, (s) => (status = s))
  // A socket that opens after knet stopped waiting must still be closed, or it keeps the process alive.
  connecting.then(
    (ws) => gaveUp && stop(ws),
    () => undefined,
  )
  try {
    socket = await connectWithin(connecting, apiTimeoutMs, limits.signal)
  } catch (error) {
    gaveUp = true
    if (limits.signal?.aborted) return cancelled
    throw execConnectError(error, server, `${namespace}/${name}`, apiTimeoutMs)
  }
  const ws = socket
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true
      stop(ws)
    }, limits.timeoutMs)
    const abort = (): void => stop(ws)
    limits.signal?.addEventListener('abort', abort, {once: true})
    const done = (): void => {
      clearTimeout(timer)
      limits.signal?.removeEventListener('abort', abort)
      resolve()
    }
    if (ws.readyState === 3) done()
    else if (ws.once) ws.once('close', done)
    else ws.addEventListener?.('close', done)
  })
  const out = {stdout: stdout.text(), stderr: stderr.text(), timedOut, truncated}
  if (status) return {...out, ...statusResult(status)}
  if (timedOut || truncated) return {...out, exitCode: null}
  return {...out, exitCode: null, error: limits.signal?.aborted ? 'cancelled' : 'the exec stream closed without an exit status'}
}

interface ExecSocket {
  close(): void
  terminate?(): void
  readyState: number
  once?(e: string, f: () => void): void
  addEventListener?(e: string, f: () => void): void
}

/**
 * Give up on an exec session now. close() would wait for the server's closing handshake (ws allows
 * it 30 s), and an API server whose command hangs never answers: the run would hang with it.
 */
function stop(ws: ExecSocket): void {
  if (typeof ws.terminate === 'function') ws.terminate()
  else ws.close()
}

/** A stdin that sends text and then stays open (ending it would close a v4 session before its status arrives). */
function openStdin(text: string): Readable {
  const stream = new PassThrough()
  stream.write(text)
  return stream
}

/** Success → 0; NonZeroExitCode → the ExitCode cause; anything else is a failure to run. */
export function statusResult(status: V1Status): {exitCode: number | null; error?: string} {
  if (status.status === 'Success') return {exitCode: 0}
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode')
    const code = Number(cause?.message)
    if (Number.isInteger(code)) return {exitCode: code}
  }
  return {exitCode: null, error: status.message ?? status.reason ?? 'exec failed'}
}

function collector(maxBytes: number, onCut: () => void): {stream: Writable; text: () => string} {
  const chunks: Buffer[] = []
  let size = 0
  let cut = false
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!cut) {
        const room = maxBytes - size
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room))
          size = maxBytes
          cut = true
          onCut()
        } else {
          chunks.push(chunk)
          size += chunk.length
        }
      }
      cb()
    },
  })
  return {stream, text: () => Buffer.concat(chunks).toString('utf8')}
}

/** The connect promise, or a rejection at the timeout or when the signal aborts. */
function connectWithin<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const timer = setTimeout(() => {
      done()
      reject(Object.assign(new Error('timed out'), {name: 'TimeoutError'}))
    }, ms)
    const onAbort = (): void => {
      done()
      reject(new Error('cancelled'))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
    promise.then(
      (v) => {
        done()
        resolve(v)
      },
      (e: unknown) => {
        done()
        // ws rejects with an ErrorEvent, not an Error; execConnectError reads it.
        reject(e)
      },
    )
  })
}

/** ws reports a refused upgrade as "Unexpected server response: 403"; network errors inside an ErrorEvent. */
function execConnectError(error: unknown, server: string, pod: string, timeoutMs: number): KnetError {
  const inner = (error as {error?: unknown} | null)?.error ?? error
  const message = inner instanceof Error ? inner.message : (error as {message?: unknown} | null)?.message
  const code = /Unexpected server response: (\d{3})/.exec(String(message ?? ''))?.[1]
  const cause = code ? new ApiHttpError(Number(code), undefined, {cause: inner}) : inner
  return withRbacHint(apiErrorToKnet(cause, {server, verb: 'create', resource: 'pods/exec', name: pod, timeoutMs}))
}

/** A refused pod write or exec points at the rules for the node access modes. */
function withRbacHint(error: KnetError): KnetError {
  if (error.kind !== 'forbidden') return error
  return new KnetError('forbidden', error.message, {
    ...(error.verb === undefined ? {} : {verb: error.verb}),
    ...(error.resource === undefined ? {} : {resource: error.resource}),
    suggestion: 'run `knet rbac --node-access pod` (or agent) for the ClusterRole those modes need',
    cause: error.cause,
  })
}

/** A PodSecurity admission rejection: name the namespace label or the other ways in. */
export function podSecurityError(error: unknown, namespace: string, name: string): KnetError | undefined {
  if (httpStatusOf(error) !== 403) return undefined
  const status = error instanceof ApiHttpError ? error.status : parseStatus((error as {body?: unknown}).body)
  const message = status?.message ?? ''
  const m = /violates PodSecurity "([^"]+)"(?::\s*(.*))?/.exec(message)
  if (!m) return undefined
  return new KnetError('forbidden', `PodSecurity "${m[1]}" in namespace ${namespace} rejected knet's node pod ${name}${m[2] ? `: ${m[2]}` : ''}`, {
    verb: 'create',
    resource: 'pods',
    suggestion: `label the namespace pod-security.kubernetes.io/enforce=privileged (kubectl label namespace ${namespace} pod-security.kubernetes.io/enforce=privileged), pass --debug-namespace with a namespace that allows privileged pods, or use --node-access agent or ssh`,
    cause: error,
  })
}

function podState(pod: V1Pod): PodState {
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(pod.spec?.nodeName ? {node: pod.spec.nodeName} : {}),
    ...(pod.status?.phase ? {phase: pod.status.phase} : {}),
    labels: pod.metadata?.labels ?? {},
    hostNetwork: pod.spec?.hostNetwork === true,
    containers: (pod.spec?.containers ?? []).map((c) => c.name),
    ...(waiting?.reason ? {waiting: {reason: waiting.reason, ...(waiting.message ? {message: waiting.message} : {})}} : {}),
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    ...(pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'] ? {defaultContainer: pod.metadata.annotations['kubectl.kubernetes.io/default-container']} : {}),
    ephemeral: (pod.spec?.ephemeralContainers ?? []).map((c): EphemeralState => {
      const st = pod.status?.ephemeralContainerStatuses?.find((s) => s.name === c.name)?.state
      const state = st?.running ? 'running' : st?.terminated ? 'terminated' : st?.waiting ? 'waiting' : 'unknown'
      const reason = st?.waiting?.reason ?? st?.terminated?.reason
      return {name: c.name, ...(c.image ? {image: c.image} : {}), state, ...(reason ? {reason} : {})}
    }),
  }
}

// client-node has no per-request timeout option; its fetch honours the context's AbortSignal.
function timeoutMiddleware(ms: number): NonNullable<ConfigurationOptions['middleware']>[number] {
  return {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(ms))
      return new Observable(Promise.resolve(ctx))
    },
    post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
  }
}
