/**
 * Flags shared by knet's commands, defined once and validated at parse time, so commands receive
 * typed values. Commands pick the subsets they need.
 */
import {Flags} from '@oclif/core'
import {badInput} from '../report/errors.js'

export const NODE_ACCESS_MODES = ['local', 'netns', 'none'] as const
export type NodeAccessMode = (typeof NODE_ACCESS_MODES)[number]

/** NODE=VALUE,NODE=VALUE → Map, with names checked so they can never smuggle options or paths. */
export function parseNodeMap(text: string, what: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=')
    const node = eq > 0 ? part.slice(0, eq) : ''
    const value = eq > 0 ? part.slice(eq + 1) : ''
    if (!isSafeName(node) || !isSafeName(value)) {
      throw badInput(`--${what}: "${part}" is not NODE=NAME (letters, digits, '.', '_', '-')`)
    }
    if (map.has(node)) throw badInput(`--${what}: node "${node}" is given twice`)
    map.set(node, value)
  }
  if (map.size === 0) throw badInput(`--${what} needs at least one NODE=NAME pair`)
  return map
}

/** Kubernetes node names and netns names: DNS-ish labels; never starting with '-'. */
export function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(name)
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!m) throw badInput(`--timeout: "${text}" is not a duration (e.g. 30s, 500ms, 2m)`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  const ms = unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000
  if (ms <= 0) throw badInput('--timeout must be greater than zero')
  return Math.round(ms)
}

export const clusterFlags = {
  kubeconfig: Flags.string({description: 'path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)', helpGroup: 'CLUSTER'}),
  context: Flags.string({description: 'kubeconfig context to use (default: the current context)', helpGroup: 'CLUSTER'}),
  objects: Flags.string({
    description: "read cluster state from `kubectl get … -o yaml|json` output instead of the API ('-' for stdin)",
    helpGroup: 'CLUSTER',
  }),
  timeout: Flags.custom<number>({
    description: 'timeout for each API request and node command batch (e.g. 30s, 500ms)',
    default: 30_000,
    defaultHelp: async () => '30s',
    parse: async (input) => parseDuration(input),
    helpGroup: 'CLUSTER',
  })(),
}

export const nodeAccessFlags = {
  'node-access': Flags.option({
    options: NODE_ACCESS_MODES,
    description: 'how node datapath evidence is read: local (this host), netns (ip netns exec), none (API only)',
    helpGroup: 'NODES',
  })(),
  'netns-map': Flags.custom<Map<string, string>>({
    description: 'with --node-access netns: NODE=NETNS,… (which namespace plays which node)',
    parse: async (input) => parseNodeMap(input, 'netns-map'),
    helpGroup: 'NODES',
  })(),
}
