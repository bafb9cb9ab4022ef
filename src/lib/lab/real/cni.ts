/**
 * Running a CNI chain by the CNI protocol, as a container runtime does (no libcni, no cnitool):
 * each plugin of the conflist is exec'd with CNI_* in its environment and its config on stdin —
 * the network's name and cniVersion injected, and, after the first, the previous plugin's result
 * as prevResult. DEL runs the chain in reverse. Plugins run with the NODE's namespace as the
 * current one (`ip netns exec NODE`), so the bridge, veths and routes land on the node, while
 * CNI_NETNS names the pod's namespace.
 */
import {join} from 'node:path'
import {execa} from 'execa'
import {KnetError} from '../../report/errors.js'

export interface CniRequest {
  command: 'ADD' | 'DEL'
  containerId: string
  /** The pod's namespace name (/run/netns/NAME). */
  podNetns: string
  ifname: string
  podNamespace: string
  podName: string
  podUid?: string
  /** Directory of the plugins (CNI_PATH). */
  binDir: string
}

export function cniEnv(r: CniRequest, base: NodeJS.ProcessEnv = {}): Record<string, string> {
  const args = [
    'IgnoreUnknown=1',
    `K8S_POD_NAMESPACE=${r.podNamespace}`,
    `K8S_POD_NAME=${r.podName}`,
    `K8S_POD_INFRA_CONTAINER_ID=${r.containerId}`,
    ...(r.podUid ? [`K8S_POD_UID=${r.podUid}`] : []),
  ].join(';')
  return {
    ...(base.PATH ? {PATH: base.PATH} : {}),
    CNI_COMMAND: r.command,
    CNI_CONTAINERID: r.containerId,
    CNI_NETNS: `/run/netns/${r.podNetns}`,
    CNI_IFNAME: r.ifname,
    CNI_ARGS: args,
    CNI_PATH: r.binDir,
  }
}

/** One plugin's stdin within a conflist: the plugin's own keys plus name, cniVersion and prevResult. */
export function pluginConfig(conflist: {name: string; cniVersion: string}, plugin: Record<string, unknown>, prevResult?: unknown): Record<string, unknown> {
  return {...plugin, name: conflist.name, cniVersion: conflist.cniVersion, ...(prevResult === undefined ? {} : {prevResult})}
}

export interface CniConflist {
  name: string
  cniVersion: string
  plugins: Record<string, unknown>[]
}

async function execPlugin(nodeNetns: string, request: CniRequest, config: Record<string, unknown>): Promise<unknown> {
  const type = String(config.type)
  const r = await execa('ip', ['netns', 'exec', nodeNetns, join(request.binDir, type)], {
    input: JSON.stringify(config),
    env: cniEnv(request, process.env),
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  })
  if (r.exitCode !== 0) {
    let why = r.stderr.trim().split('\n')[0] ?? ''
    try {
      const e = JSON.parse(r.stdout) as {msg?: string; details?: string}
      why = [e.msg, e.details].filter(Boolean).join(': ') || why
    } catch {
      // not a CNI error object
    }
    throw new KnetError('command-failed', `CNI ${request.command} ${type} for ${request.podNamespace}/${request.podName}: ${why || `exit ${r.exitCode}`}`)
  }
  return r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout)
}

/** ADD through the whole chain; the last plugin's result. */
export async function cniAdd(nodeNetns: string, conflist: CniConflist, request: Omit<CniRequest, 'command'>): Promise<unknown> {
  let prev: unknown
  for (const plugin of conflist.plugins) prev = await execPlugin(nodeNetns, {...request, command: 'ADD'}, pluginConfig(conflist, plugin, prev))
  return prev
}

/** DEL through the chain in reverse, carrying on past failures (DEL must clean up what it can). */
export async function cniDel(nodeNetns: string, conflist: CniConflist, request: Omit<CniRequest, 'command'>, prevResult?: unknown): Promise<string[]> {
  const errors: string[] = []
  for (const plugin of [...conflist.plugins].reverse()) {
    try {
      await execPlugin(nodeNetns, {...request, command: 'DEL'}, pluginConfig(conflist, plugin, prevResult))
    } catch (error) {
      errors.push((error as Error).message)
    }
  }
  return errors
}

export interface CniOutcome {
  ip: string
  prefix: number
  gateway?: string
  /** The pod's IPv6 address (a dual-stack network: host-local over both ranges). */
  ip6?: string
  /** eth0's MAC inside the pod. */
  mac?: string
  /** The node-side veth. */
  hostVeth?: string
}

/** The pod's address and interfaces from a CNI result (0.3.x/0.4.x/1.x shape). */
export function parseCniResult(result: unknown, ifname = 'eth0'): CniOutcome | undefined {
  const r = result as {interfaces?: {name?: string; mac?: string; sandbox?: string}[]; ips?: {address?: string; gateway?: string; interface?: number}[]}
  const ip = r?.ips?.find((x) => typeof x.address === 'string' && x.address.includes('.'))
  if (!ip?.address) return undefined
  const ip6 = r.ips?.find((x) => typeof x.address === 'string' && x.address.includes(':'))?.address?.split('/')[0]
  const [addr, len] = ip.address.split('/')
  const interfaces = r.interfaces ?? []
  const pod = interfaces.find((i) => i.sandbox && i.name === ifname) ?? (ip.interface === undefined ? undefined : interfaces[ip.interface])
  const podIndex = pod ? interfaces.indexOf(pod) : -1
  // The bridge plugin lists bridge, host veth, then the container interface.
  const host = podIndex > 0 ? interfaces[podIndex - 1] : undefined
  return {
    ip: addr as string,
    prefix: Number(len),
    ...(ip.gateway ? {gateway: ip.gateway} : {}),
    ...(ip6 ? {ip6} : {}),
    ...(pod?.mac ? {mac: pod.mac} : {}),
    ...(host?.name && !host.sandbox ? {hostVeth: host.name} : {}),
  }
}
