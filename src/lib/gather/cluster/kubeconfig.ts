/**
 * Kubeconfig resolution exactly as kubectl does it, then handed to client-node's KubeConfig.
 * client-node's own loadFromDefault differs from kubectl in ways users would notice: with
 * KUBECONFIG=a:b it lets the *last* file's current-context win, throws on a name defined in two
 * files, and fails on a listed file that does not exist. kubectl's rules (clientcmd loading rules):
 * files are read in order, missing ones skipped; the first file to define a cluster, user or
 * context by name wins; the first non-empty current-context wins.
 */
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'
import {KubeConfig, type Cluster, type Context, type User} from '@kubernetes/client-node'
import {badInput} from '../../report/errors.js'

export interface KubeconfigRequest {
  /** --kubeconfig: this one file, which must exist (as kubectl --kubeconfig). */
  kubeconfig?: string
  /** --context: the context to use instead of current-context. */
  context?: string
  /** The environment to read KUBECONFIG and HOME from; defaults to process.env (tests pass their own). */
  env?: NodeJS.ProcessEnv
}

export interface ResolvedKubeconfig {
  kc: KubeConfig
  context: string
  server: string
  /** The namespace the context names (kubectl's default for -n), if it names one. */
  namespace?: string
  /** The files that were read, in precedence order. */
  files: string[]
}

export function resolveKubeconfig(request: KubeconfigRequest): ResolvedKubeconfig {
  const env = request.env ?? process.env
  if (request.kubeconfig === undefined && !env.KUBECONFIG && inCluster(env)) {
    // kubectl's last resort inside a pod: the service account's token and the in-cluster Service.
    const kc = new KubeConfig()
    kc.loadFromCluster()
    const namespace = kc.getContextObject(kc.currentContext)?.namespace?.trim()
    return {kc, context: kc.currentContext, server: kc.getCurrentCluster()?.server ?? '', ...(namespace ? {namespace} : {}), files: []}
  }
  const files = kubeconfigFiles(request.kubeconfig, env)
  const merged = {clusters: [] as Cluster[], users: [] as User[], contexts: [] as Context[], currentContext: ''}
  for (const file of files) {
    const one = new KubeConfig()
    try {
      // loadFromFile also makes certificate/key paths relative to that file absolute, as kubectl does.
      one.loadFromFile(file)
    } catch (error) {
      throw badInput(`kubeconfig ${file} could not be read: ${firstLine(error)}`, 'check the file is a valid kubeconfig', error)
    }
    addNew(merged.clusters, one.clusters)
    addNew(merged.users, one.users)
    addNew(merged.contexts, one.contexts)
    if (!merged.currentContext && one.currentContext) merged.currentContext = one.currentContext
  }
  const contextName = request.context ?? merged.currentContext
  if (!contextName) {
    throw badInput(`no current context in ${files.join(', ')}`, 'pass --context NAME or run `kubectl config use-context NAME`')
  }
  const context = merged.contexts.find((c) => c.name === contextName)
  if (!context) {
    const known = merged.contexts.map((c) => c.name).join(', ') || 'none'
    throw badInput(`context "${contextName}" is not in the kubeconfig (known: ${known})`, 'pass --context with one of the known contexts')
  }
  const cluster = merged.clusters.find((c) => c.name === context.cluster)
  if (!cluster) throw badInput(`context "${contextName}" names cluster "${context.cluster}", which the kubeconfig does not define`)
  if (context.user && !merged.users.some((u) => u.name === context.user)) {
    throw badInput(`context "${contextName}" names user "${context.user}", which the kubeconfig does not define`)
  }
  const kc = new KubeConfig()
  kc.loadFromOptions({clusters: merged.clusters, users: merged.users, contexts: merged.contexts, currentContext: contextName})
  return {kc, context: contextName, server: cluster.server, ...(context.namespace ? {namespace: context.namespace} : {}), files}
}

/**
 * The namespace of the context knet would use, as kubectl takes it when -n is absent; undefined
 * when the context names none or there is no usable kubeconfig (the gather reports that, once).
 */
export function contextNamespace(request: KubeconfigRequest): string | undefined {
  try {
    return resolveKubeconfig(request).namespace
  } catch {
    return undefined
  }
}

function kubeconfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw badInput(`kubeconfig ${explicit} does not exist`, 'check the --kubeconfig path')
    return [explicit]
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean)
  if (fromEnv.length > 0) {
    const present = fromEnv.filter((f) => existsSync(f))
    if (present.length === 0) throw badInput(`none of the KUBECONFIG files exist (${fromEnv.join(delimiter)})`, 'fix KUBECONFIG or pass --kubeconfig')
    return present
  }
  const home = env.HOME ?? homedir()
  const defaultFile = join(home, '.kube', 'config')
  if (existsSync(defaultFile)) return [defaultFile]
  throw badInput('no kubeconfig found ($KUBECONFIG is unset and ~/.kube/config does not exist)', 'pass --kubeconfig FILE, or --objects FILE to work from kubectl output')
}

function inCluster(env: NodeJS.ProcessEnv): boolean {
  const home = env.HOME ?? homedir()
  return Boolean(env.KUBERNETES_SERVICE_HOST) && !existsSync(join(home, '.kube', 'config')) && existsSync(SERVICE_ACCOUNT_TOKEN)
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

function addNew<T extends {name: string}>(into: T[], from: readonly T[]): void {
  for (const item of from) if (!into.some((i) => i.name === item.name)) into.push(item)
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
