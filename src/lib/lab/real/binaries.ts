/**
 * The upstream programs a real lab runs, found in one directory (`--kubernetes DIR` or
 * KNET_KUBERNETES): the control plane, kube-proxy, flanneld and the CNI plugins of flannel's chain
 * and kindnet's (ptp).
 */
import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import {join} from 'node:path'
import {execa} from 'execa'
import {KnetError} from '../../report/errors.js'

export const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const
export const NODE_PROGRAMS = ['kube-proxy', 'flanneld'] as const
export const CNI_PLUGINS = ['flannel', 'bridge', 'ptp', 'host-local', 'loopback', 'portmap'] as const
export const REQUIRED_BINARIES = [...CONTROL_PLANE, ...NODE_PROGRAMS, ...CNI_PLUGINS] as const
/** Host tools the real programs exec (kube-proxy and flanneld: iptables or nft) or the lab uses. */
export const REQUIRED_TOOLS = ['openssl', 'iptables', 'iptables-save', 'nft'] as const

export type Component = (typeof CONTROL_PLANE)[number] | (typeof NODE_PROGRAMS)[number]

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

async function onPath(tool: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) if (await executable(join(dir, tool))) return true
  return false
}

/** What is missing, as one line; undefined when everything is there. */
export async function missingBinaries(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const missing: string[] = []
  for (const b of REQUIRED_BINARIES) if (!(await executable(join(dir, b)))) missing.push(b)
  const tools: string[] = []
  for (const t of REQUIRED_TOOLS) if (!(await onPath(t, env))) tools.push(t)
  const parts = [
    ...(missing.length > 0 ? [`${dir} lacks ${missing.join(', ')}`] : []),
    ...(tools.length > 0 ? [`PATH lacks ${tools.join(', ')}`] : []),
  ]
  return parts.length > 0 ? parts.join('; ') : undefined
}

export async function assertBinaries(dir: string): Promise<void> {
  const missing = await missingBinaries(dir)
  if (missing) throw new KnetError('bad-input', `--kubernetes: ${missing}`, {suggestion: 'build them with "npm run -s k8s:build", which prints the directory'})
}

/** The version a program reports: "v1.36.3" from "Kubernetes v1.36.3", "3.6.8" from etcd's first line, flanneld's as printed. */
export function parseVersion(component: string, output: string): string | undefined {
  const text = output.trim()
  if (component === 'etcd') return /etcd Version:\s*(\S+)/.exec(text)?.[1]
  if (component === 'flanneld') return /^v?\d+\.\d+\S*/m.exec(text)?.[0]
  return /Kubernetes\s+(v\S+)/.exec(text)?.[1]
}

export async function componentVersion(dir: string, component: Component): Promise<string | undefined> {
  const r = await execa(join(dir, component), ['--version'], {reject: false, timeout: 60_000, all: true})
  return parseVersion(component, r.all ?? '')
}
