/**
 * Flags shared by knet's commands, defined once and validated at parse time, so commands receive
 * typed values. Commands pick the subsets they need.
 */
import {Flags} from '@oclif/core'
import {badInput} from '../report/errors.js'

export const NODE_ACCESS_MODES = ['pod', 'agent', 'ssh', 'docker', 'local', 'netns', 'none'] as const
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

// ---- Analysis flags (doctor; trace to follow): appended, shared by the analysis commands. ----

export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'junit', 'sarif'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

export const snapshotFlag = {
  snapshot: Flags.string({description: 'analyse a snapshot file written by `knet snapshot` instead of gathering live', helpGroup: 'SOURCE'}),
}

export const outputFormatFlag = {
  output: Flags.option({char: 'o', options: OUTPUT_FORMATS, default: 'table' as OutputFormat, description: 'output format: table (human), json, yaml, junit, sarif'})(),
}

export const failOnFlag = {
  'fail-on': Flags.option({
    options: ['error', 'warn', 'info', 'none'] as const,
    default: 'error' as const,
    description: 'exit 1 when a finding has this severity or higher (none: never)',
  })(),
}

export const nodesFlag = {
  nodes: Flags.custom<string[]>({
    description: 'only these nodes: NAME,NAME,… (node evidence is gathered and checked for them only)',
    parse: async (input) => parseNameList(input, 'nodes', isSafeName),
    helpGroup: 'NODES',
  })(),
}

/** A comma-separated list of names, each checked; never empty. */
export function parseNameList(text: string, flag: string, valid: (name: string) => boolean, validHelp?: string): string[] {
  const names = [...new Set(text.split(',').map((p) => p.trim()).filter(Boolean))]
  if (names.length === 0) throw badInput(`--${flag} needs at least one name`)
  const bad = names.filter((n) => !valid(n))
  if (bad.length > 0) throw badInput(`--${flag}: unknown or invalid ${bad.map((b) => `"${b}"`).join(', ')}${validHelp ? `; valid: ${validHelp}` : ''}`)
  return names
}

/** --only / --skip over a fixed list of check ids; unknown ids are a usage error listing the valid ones. */
export function checkSelectionFlags(ids: readonly string[]) {
  const parse = (flag: string) => async (input: string) => parseNameList(input, flag, (n) => ids.includes(n), ids.join(', '))
  return {
    only: Flags.custom<string[]>({description: 'run only these checks: ID,ID,… (see --list)', parse: parse('only')})(),
    skip: Flags.custom<string[]>({description: 'do not run these checks: ID,ID,…', parse: parse('skip')})(),
  }
}
