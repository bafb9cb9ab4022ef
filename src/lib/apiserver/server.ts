/**
 * A small stand-in for kube-apiserver that speaks the subset of the REST API knet uses, over HTTP
 * or HTTPS on loopback. It is not a cluster: it serves a fixed set of objects read-only, with
 * real pagination (limit/continue/remainingItemCount), real Status objects, bearer-token checks,
 * and injectable faults; the one thing it writes is pods (create/delete, pods.ts, and ephemeral
 * containers, ephemeral.ts), with pods/exec over WebSocket (exec.ts) for `--node-access pod` and
 * `trace --probe`. Tests and `knet lab` reach it through a kubeconfig and unmodified
 * client-node, so what passes here passes against the same HTTP a real server speaks.
 */
import {createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo} from 'node:net'
import type {Duplex} from 'node:stream'
import {testCerts} from './certs.js'
import {coreVersions, groupList, resourceList, SERVER_VERSION, type IsServed} from './discovery.js'
import {chooseProtocol, EXEC_PROTOCOLS, execServer, runExecSession, type ExecHook} from './exec.js'
import {writeKubeconfigFile, type KubeconfigOptions} from './kubeconfig.js'
import {parseLabelSelector} from './labels.js'
import {execTarget, getEphemeral, patchEphemeral} from './ephemeral.js'
import {createPod, deletePod, findPod, POD_TYPE, type PodLifecycle} from './pods.js'
import {apiVersionOf, typeForPath, type ResourceType} from './resources.js'
import * as status from './status.js'
import {buildStore, itemsOf, type ObjectStore} from './store.js'

export interface ApiServerFaults {
  /** Every request is refused with 401, as with expired credentials. */
  status401?: boolean
  /** Requests matching verb ('list', 'get', 'create', 'delete', 'patch' or '*') and resource ('pods', 'pods/exec', 'pods/ephemeralcontainers', …) get 403. */
  forbid?: {verb: string; resource: string}[]
  /** Resources answered with 500 InternalError. */
  status500?: string[]
  /** Resources whose API group is not served at all (plain-text 404, as for a missing group). */
  notServed?: string[]
  /** Delay before answering requests for a resource ('*' for all), in ms. */
  delayMs?: Record<string, number>
  /** The first request carrying a continue token is answered with 410 Expired. */
  expireContinueOnce?: boolean
}

export interface ApiServerOptions {
  objects: readonly unknown[]
  /** Serve HTTPS with the committed test certificate ('self-signed'), or with the given PEMs. */
  tls?: 'self-signed' | {cert: string; key: string}
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string
  /** The user named in 403 messages. */
  user?: string
  /** The largest page the server returns whatever limit is asked (real servers may also cap). */
  pageSizeLimit?: number
  faults?: ApiServerFaults
  /**
   * Runs the commands of pods/exec sessions (see exec.ts, and exec-netns.ts for one that runs
   * them in a node's network namespace). Without it every exec fails with a Status.
   */
  exec?: ExecHook
  /** The exec subprotocols served (default v5 and v4; an older server speaks only v4). */
  execProtocols?: readonly string[]
  /** A created pod bound to a known node turns Running after this many ms (default 100), or per node. */
  podStartDelayMs?: number | ((node: string) => number)
}

/** A pod as the server holds it now, for tests to inspect. */
export interface PodSummary {
  namespace: string
  name: string
  node?: string
  phase?: string
  labels: Record<string, string>
}

export interface LoggedRequest {
  method: string
  path: string
  query: Record<string, string>
  status: number
}

export interface ApiServer {
  url: string
  port: number
  requests: LoggedRequest[]
  /** TCP connections accepted so far (to see whether a client reuses them). */
  connections(): number
  /** The CA a client must trust (undefined over HTTP). */
  caPem?: string
  writeKubeconfig(path: string, options?: Omit<KubeconfigOptions, 'server'> & {trust?: 'server' | 'wrong-ca' | 'none'}): string
  /** The pods the server holds now (those created through the API included), optionally by label selector. */
  pods(labelSelector?: string): PodSummary[]
  /** Exec sessions still running. */
  execSessions(): number
  close(): Promise<void>
}

interface Continue {
  rv: string
  offset: number
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const store = buildStore(options.objects)
  const isServed: IsServed = (type) => !type.custom || (store.byResource.get(type.resource)?.length ?? 0) > 0
  const faults = options.faults ?? {}
  const requests: LoggedRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  let continueExpired = false
  const user = options.user ?? 'system:serviceaccount:knet:knet'
  const certs = options.tls === 'self-signed' ? testCerts() : undefined
  const life: PodLifecycle = {
    store,
    startDelayMs: typeof options.podStartDelayMs === 'function' ? options.podStartDelayMs : () => (options.podStartDelayMs as number | undefined) ?? 100,
    later(fn, ms) {
      const timer = setTimeout(() => {
        timers.delete(timer)
        fn()
      }, ms)
      timers.add(timer)
    },
    now: () => new Date(),
  }
  const served = options.execProtocols ?? EXEC_PROTOCOLS
  const wss = execServer(served)
  const sessions = new Set<Promise<void>>()

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const entry: LoggedRequest = {method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0}
    requests.push(entry)
    const reply = (code: number, body: string, contentType = 'application/json'): void => {
      entry.status = code
      if (res.destroyed) return
      res.writeHead(code, {'content-type': contentType, 'content-length': Buffer.byteLength(body)})
      res.end(body)
    }
    const route = parseRoute(url.pathname, isServed)
    const delay = (route.type && faults.delayMs?.[route.type.resource]) ?? faults.delayMs?.['*'] ?? 0
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    const answer = (): void => {
      try {
        const [code, body, contentType] = respond(req, url, route, Buffer.concat(chunks).toString('utf8'))
        reply(code, body, contentType)
      } catch (error) {
        reply(500, JSON.stringify(status.internalError(error instanceof Error ? error.message : String(error))))
      }
    }
    req.on('end', () => {
      if (delay > 0) life.later(answer, delay)
      else answer()
    })
  }

  const respond = (req: IncomingMessage, url: URL, route: Route, body: string): [number, string, string?] => {
    const json = (code: number, body: unknown): [number, string] => [code, JSON.stringify(body)]
    if (faults.status401 || (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`)) {
      return json(401, status.unauthorized())
    }
    if ((req.method === 'POST' || req.method === 'DELETE') && route.type === POD_TYPE && route.namespace !== undefined) {
      const verb = req.method === 'POST' ? 'create' : 'delete'
      if (verb === 'create' ? route.name !== undefined : route.name === undefined) return json(405, methodNotAllowed())
      if (isForbidden(verb, 'pods')) return json(403, status.forbidden({user, verb, resource: 'pods', group: '', namespace: route.namespace, name: route.name}))
      if (verb === 'delete') return json(...deletePod(life, route.namespace, route.name as string))
      let parsed: unknown
      try {
        parsed = JSON.parse(body)
      } catch {
        return json(400, status.badRequest('the body of the request was in an unknown format'))
      }
      return json(...createPod(life, route.namespace, parsed))
    }
    if (route.subresource !== undefined) {
      if (route.type !== POD_TYPE || route.subresource !== 'ephemeralcontainers' || route.namespace === undefined || route.name === undefined) return [404, '404 page not found\n', 'text/plain; charset=utf-8']
      const verb = req.method === 'PATCH' ? 'patch' : req.method === 'GET' ? 'get' : undefined
      if (!verb) return json(405, methodNotAllowed())
      if (isForbidden(verb, 'pods/ephemeralcontainers')) {
        return json(403, status.forbidden({user, verb, resource: 'pods/ephemeralcontainers', group: '', namespace: route.namespace, name: route.name}))
      }
      return verb === 'get' ? json(...getEphemeral(life, route.namespace, route.name)) : json(...patchEphemeral(life, route.namespace, route.name, req.headers['content-type'], body))
    }
    if (req.method !== 'GET') {
      return json(405, methodNotAllowed())
    }
    if (route.discovery !== undefined) {
      return route.discovery === null ? [404, '404 page not found\n', 'text/plain; charset=utf-8'] : json(200, route.discovery)
    }
    const type = route.type
    if (!type || !isServed(type) || (faults.notServed ?? []).includes(type.resource)) return [404, '404 page not found\n', 'text/plain; charset=utf-8']
    const verb = route.name === undefined ? 'list' : 'get'
    // knet never reads Secrets; refusing them here (and logging the attempt) lets tests prove it.
    const forbidden = type.resource === 'secrets' || isForbidden(verb, type.resource)
    if (forbidden) {
      return json(403, status.forbidden({user, verb, resource: type.resource, group: type.group, namespace: route.namespace, name: route.name}))
    }
    if ((faults.status500 ?? []).includes(type.resource)) return json(500, status.internalError(`etcdserver: request timed out`))
    if (route.name !== undefined) {
      const found = itemsOf(store, type, type.namespaced ? route.namespace ?? '' : undefined).find((o) => o.name === route.name)
      if (!found) return json(404, status.notFound(type.resource, route.name, type.group))
      return [200, withTypeMeta(found.json, type)]
    }
    return list(url, type, route.namespace)
  }

  const isForbidden = (verb: string, resource: string): boolean =>
    (faults.forbid ?? []).some((f) => f.resource === resource && (f.verb === verb || f.verb === '*'))

  const list = (url: URL, type: ResourceType, namespace: string | undefined): [number, string] => {
    let items = itemsOf(store, type, namespace)
    const selector = url.searchParams.get('labelSelector')
    if (selector) {
      const match = parseLabelSelector(selector)
      if ('error' in match) return [400, JSON.stringify(status.badRequest(match.error))]
      items = items.filter((o) => match(labelsOf(o.json)))
    }
    const limitParam = url.searchParams.get('limit')
    let limit = limitParam === null ? 0 : Number(limitParam)
    if (!Number.isInteger(limit) || limit < 0) return [400, JSON.stringify(status.badRequest(`invalid limit "${limitParam}"`))]
    if (options.pageSizeLimit !== undefined && (limit === 0 || limit > options.pageSizeLimit)) limit = options.pageSizeLimit
    let offset = 0
    const token = url.searchParams.get('continue')
    if (token) {
      const decoded = decodeContinue(token)
      if (!decoded) return [400, JSON.stringify(status.badRequest('continue key is not valid: illegal base64 data'))]
      if (faults.expireContinueOnce && !continueExpired) {
        continueExpired = true
        return [410, JSON.stringify(status.expired(token))]
      }
      offset = decoded.offset
    }
    const end = limit > 0 ? Math.min(items.length, offset + limit) : items.length
    const metadata: Record<string, unknown> = {resourceVersion: store.resourceVersion}
    if (end < items.length) {
      metadata.continue = encodeContinue({rv: store.resourceVersion, offset: end})
      metadata.remainingItemCount = items.length - end
    }
    const body = `{"kind":"${type.kind}List","apiVersion":"${apiVersionOf(type)}","metadata":${JSON.stringify(metadata)},"items":[${items
      .slice(offset, end)
      .map((o) => o.json)
      .join(',')}]}`
    return [200, body]
  }

  const server: Server = certs
    ? createHttpsServer({cert: certs.cert, key: certs.key}, handler)
    : typeof options.tls === 'object'
      ? createHttpsServer({cert: options.tls.cert, key: options.tls.key}, handler)
      : createHttpServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const entry: LoggedRequest = {method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0}
    requests.push(entry)
    const refuse = (code: number, body: unknown): void => {
      entry.status = code
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
      socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
    }
    socket.on('error', () => undefined)
    if (faults.status401 || (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`)) return refuse(401, status.unauthorized())
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname)
    if (!m) return refuse(404, '404 page not found\n')
    const namespace = decodeURIComponent(m[1] ?? '')
    const name = decodeURIComponent(m[2] ?? '')
    if (isForbidden('create', 'pods/exec')) {
      return refuse(403, status.forbiddenBecause('pods', name, `User "${user}" cannot create resource "pods/exec" in API group "" in the namespace "${namespace}"`))
    }
    const pod = findPod(store, namespace, name)
    if (!pod) return refuse(404, status.notFound('pods', name))
    const containers = ((pod.spec as {containers?: {name?: string}[]} | undefined)?.containers ?? []).map((c) => String(c.name))
    const container = url.searchParams.get('container') || (containers.length === 1 ? containers[0] : undefined)
    if (!container) return refuse(400, status.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`))
    const target = execTarget(pod, container)
    if (!target) return refuse(400, status.badRequest(`container ${container} is not valid for pod ${name}`))
    if (target === 'ephemeral-not-running') return refuse(400, status.badRequest(`unable to upgrade connection: container not found ("${container}")`))
    const phase = (pod.status as {phase?: string} | undefined)?.phase
    if (phase !== 'Running') return refuse(400, status.badRequest(`unable to upgrade connection: container not found ("${container}")`))
    const command = url.searchParams.getAll('command')
    if (command.length === 0) return refuse(400, status.badRequest('you must specify at least 1 command'))
    const protocol = chooseProtocol(req.headers['sec-websocket-protocol'], served)
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || !protocol) {
      return refuse(400, status.badRequest(`unable to upgrade connection: none of the requested protocols is served (${served.join(', ')})`))
    }
    entry.status = 101
    const done = runExecSession(wss, req, socket, head, {namespace, pod, container, ephemeral: target === 'ephemeral', command, stdin: url.searchParams.get('stdin') === 'true', protocol}, options.exec)
    sessions.add(done)
    void done.finally(() => sessions.delete(done))
  })

  let connections = 0
  server.on(certs || typeof options.tls === 'object' ? 'secureConnection' : 'connection', () => connections++)
  const port = (server.address() as AddressInfo).port
  const scheme = options.tls ? 'https' : 'http'
  const url = `${scheme}://127.0.0.1:${port}`
  const caPem = certs?.ca

  return {
    url,
    port,
    requests,
    connections: () => connections,
    caPem,
    writeKubeconfig(path, o = {}) {
      const trust = o.trust ?? 'server'
      const ca = trust === 'none' ? undefined : trust === 'wrong-ca' ? testCerts().wrongCa : caPem
      return writeKubeconfigFile(path, {...o, server: url, caPem: ca, token: o.token ?? options.token})
    },
    pods(labelSelector) {
      const match = labelSelector ? parseLabelSelector(labelSelector) : () => true
      if (typeof match !== 'function') throw new Error(match.error)
      return itemsOf(store, POD_TYPE)
        .map((o) => {
          const p = JSON.parse(o.json) as {metadata?: {labels?: Record<string, string>}; spec?: {nodeName?: string}; status?: {phase?: string}}
          return {
            namespace: o.namespace,
            name: o.name,
            ...(p.spec?.nodeName ? {node: p.spec.nodeName} : {}),
            ...(p.status?.phase ? {phase: p.status.phase} : {}),
            labels: p.metadata?.labels ?? {},
          }
        })
        .filter((p) => match(p.labels))
    },
    execSessions: () => sessions.size,
    async close() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const client of wss.clients) client.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function methodNotAllowed(): status.StatusObject {
  return {...status.badRequest(`the server does not allow this method on the requested resource`), reason: 'MethodNotAllowed', code: 405}
}

function labelsOf(json: string): Record<string, string> {
  return (JSON.parse(json) as {metadata?: {labels?: Record<string, string>}}).metadata?.labels ?? {}
}

function withTypeMeta(json: string, type: ResourceType): string {
  return `{"kind":"${type.kind}","apiVersion":"${apiVersionOf(type)}",${json.slice(1)}`
}

interface Route {
  /** A discovery document, or null for an unknown discovery path; undefined for resource paths. */
  discovery?: object | null
  type?: ResourceType
  namespace?: string
  name?: string
  /** namespaces/NS/pods/NAME/SUBRESOURCE (exec is served on the upgrade path). */
  subresource?: string
}

function parseRoute(pathname: string, isServed: IsServed): Route {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent)
  if (pathname === '/version' || pathname === '/version/') return {discovery: SERVER_VERSION}
  if (segs.length === 1 && segs[0] === 'api') return {discovery: coreVersions()}
  if (segs.length === 1 && segs[0] === 'apis') return {discovery: groupList(isServed)}
  let group: string
  let version: string
  let rest: string[]
  if (segs[0] === 'api' && segs.length >= 2) {
    group = ''
    version = segs[1] ?? ''
    rest = segs.slice(2)
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1] ?? ''
    version = segs[2] ?? ''
    rest = segs.slice(3)
  } else {
    return {discovery: null}
  }
  if (rest.length === 0) return {discovery: resourceList(group === '' ? version : `${group}/${version}`, isServed) ?? null}
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const type = typeForPath(group, version, rest[2] ?? '')
    if (rest.length === 5) return {type, namespace: rest[1], name: rest[3], subresource: rest[4]}
    return rest.length > 4 ? {} : {type, namespace: rest[1], name: rest[3]}
  }
  if (rest.length > 2) return {}
  const type = typeForPath(group, version, rest[0] ?? '')
  // A namespaced resource listed without a namespace is the all-namespaces list.
  return {type, name: rest[1]}
}

function encodeContinue(c: Continue): string {
  return Buffer.from(JSON.stringify({v: 'meta.k8s.io/v1', rv: c.rv, start: c.offset})).toString('base64url')
}

function decodeContinue(token: string): Continue | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {rv?: unknown; start?: unknown}
    if (typeof parsed.rv !== 'string' || typeof parsed.start !== 'number') return undefined
    return {rv: parsed.rv, offset: parsed.start}
  } catch {
    return undefined
  }
}

export type {ObjectStore}
