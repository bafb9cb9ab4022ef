/**
 * Flags shared by knet's commands, defined once and validated at parse time, so commands receive
 * typed values. Commands pick the subsets they need.
 */
import {statSync} from 'node:fs'
import {isIP} from 'node:net'
import {resolve} from 'node:path'
import {Flags} from '@oclif/core'
import type {DockerAccessOptions} from '../gather/node/docker.js'
import type {PodAccessOptions} from '../gather/node/pod-access.js'
import type {SshAccessOptions} from '../gather/node/ssh.js'
import {DOCTOR_FORMATS, type DoctorFormat} from '../render/formats.js'
import {badInput} from '../report/errors.js'

export const NODE_ACCESS_MODES = ['pod', 'agent', 'ssh', 'docker', 'local', 'netns', 'none'] as const
export type NodeAccessMode = (typeof NODE_ACCESS_MODES)[number]

/** NODE=VALUE,NODE=VALUE → Map, with names checked so they can never smuggle options or paths. */
export function parseNodeMap(
  text: string,
  what: string,
  value: {valid: (v: string) => boolean; help: string} = {valid: isSafeName, help: "NODE=NAME (letters, digits, '.', '_', '-')"},
): Map<string, string> {
  const map = new Map<string, string>()
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=')
    const node = eq > 0 ? part.slice(0, eq) : ''
    const val = eq > 0 ? part.slice(eq + 1) : ''
    if (!isSafeName(node) || !value.valid(val)) throw badInput(`--${what}: "${part}" is not ${value.help}`)
    if (map.has(node)) throw badInput(`--${what}: node "${node}" is given twice`)
    map.set(node, val)
  }
  if (map.size === 0) throw badInput(`--${what} needs at least one ${value.help.split(' ')[0]} pair`)
  return map
}

/** Kubernetes node names and netns names: DNS-ish labels; never starting with '-'. */
export function isSafeName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(name)
}

/** An ssh host: an IP address or a DNS name; never starting with '-', so ssh cannot read it as an option. */
export function isSafeHost(host: string): boolean {
  if (isIP(host) !== 0) return true
  return host.length <= 253 && /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)
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
    description: "timeout for each API request; also the least each node command may take (those that read large tables allow 60s) (e.g. 2m, 500ms)",
    default: 30_000,
    defaultHelp: async () => '30s',
    parse: async (input) => parseDuration(input),
    helpGroup: 'CLUSTER',
  })(),
}

/** --chunk-size, as kubectl's: how many objects each list request asks the API server for. */
export const chunkSizeFlag = {
  'chunk-size': Flags.integer({
    description: 'objects per API list request; lists are read page by page with continue tokens (as kubectl --chunk-size)',
    default: 500,
    min: 1,
    max: 10_000,
    helpGroup: 'CLUSTER',
  }),
}

/**
 * -n/--namespace, as kubectl has it: absent, it is the kubeconfig context's namespace when knet
 * reads the API (see namespace.ts), else "default". `what` says what it applies to.
 */
export function namespaceFlag(what: string) {
  return {
    namespace: Flags.custom<string>({
      char: 'n',
      description: `namespace for ${what} (default: the kubeconfig context's namespace when reading the API, as kubectl does; else default)`,
      parse: async (input) => {
        if (!isNamespaceName(input)) throw badInput(`--namespace: "${input}" is not a namespace name`)
        return input
      },
    })(),
  }
}

export const SSH_SUDO_MODES = ['auto', 'always', 'never'] as const
export type SshSudoMode = (typeof SSH_SUDO_MODES)[number]

// ---- --node-access pod and agent ----

/** A namespace name (DNS-1123 label). */
export function isNamespaceName(name: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)
}

function checked(flag: string, valid: (v: string) => boolean, help: string) {
  return async (input: string): Promise<string> => {
    if (!valid(input)) throw badInput(`--${flag}: "${input}" is not ${help}`)
    return input
  }
}

export const podAccessFlags = {
  image: Flags.custom<string>({
    description: "with --node-access pod: the node pod's image; it needs iproute2, iptables, nftables, conntrack and ipvsadm",
    defaultHelp: async () => 'docker.io/nicolaka/netshoot:v0.13',
    parse: checked('image', (v) => /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/.test(v), 'an image reference'),
    helpGroup: 'NODES',
  })(),
  'debug-namespace': Flags.custom<string>({
    description: "with --node-access pod: the namespace knet's node pods are created in (it must allow privileged pods)",
    defaultHelp: async () => 'default',
    parse: checked('debug-namespace', isNamespaceName, 'a namespace name'),
    helpGroup: 'NODES',
  })(),
  'agent-selector': Flags.custom<string>({
    description: 'with --node-access agent: label selector of the DaemonSet pods to exec into (e.g. k8s-app=cilium)',
    parse: checked('agent-selector', (v) => /^[A-Za-z0-9!][A-Za-z0-9._/=!,() -]{0,511}$/.test(v), 'a label selector (KEY=VALUE,…)'),
    helpGroup: 'NODES',
  })(),
  'agent-namespace': Flags.custom<string>({
    description: "with --node-access agent: the agent pods' namespace",
    defaultHelp: async () => 'kube-system',
    parse: checked('agent-namespace', isNamespaceName, 'a namespace name'),
    helpGroup: 'NODES',
  })(),
  'node-timeout': Flags.custom<number>({
    description: 'with --node-access pod or agent: the most one node may take, pod start and every command included (e.g. 2m)',
    defaultHelp: async () => '2m',
    parse: async (input) => {
      try {
        return parseDuration(input)
      } catch {
        throw badInput(`--node-timeout: "${input}" is not a duration (e.g. 90s, 2m)`)
      }
    },
    helpGroup: 'NODES',
  })(),
}

export interface PodAccessFlags {
  'node-access'?: NodeAccessMode
  image?: string
  'debug-namespace'?: string
  'agent-selector'?: string
  'agent-namespace'?: string
  'node-timeout'?: number
}

/** The pod and agent flags as capture options; each applies only with its own --node-access (pod is also the default). */
export function podAccessOptions(flags: PodAccessFlags): {pod: PodAccessOptions} {
  const mode = flags['node-access']
  const podOnly = (['image', 'debug-namespace'] as const).filter((f) => flags[f] !== undefined)
  if (podOnly.length > 0 && mode !== undefined && mode !== 'pod') throw badInput(`${podOnly.map((f) => `--${f}`).join(', ')} only apply with --node-access pod`)
  const agentOnly = (['agent-selector', 'agent-namespace'] as const).filter((f) => flags[f] !== undefined)
  if (agentOnly.length > 0 && mode !== 'agent') throw badInput(`${agentOnly.map((f) => `--${f}`).join(', ')} only apply with --node-access agent`)
  if (mode === 'agent' && flags['agent-selector'] === undefined) throw badInput('--node-access agent needs --agent-selector KEY=VALUE (and --agent-namespace, default kube-system)')
  if (flags['node-timeout'] !== undefined && mode !== undefined && mode !== 'pod' && mode !== 'agent') throw badInput('--node-timeout only applies with --node-access pod or agent')
  return {
    pod: {
      ...(flags.image === undefined ? {} : {image: flags.image}),
      ...(flags['debug-namespace'] === undefined ? {} : {debugNamespace: flags['debug-namespace']}),
      ...(flags['agent-selector'] === undefined ? {} : {agentSelector: flags['agent-selector']}),
      ...(flags['agent-namespace'] === undefined ? {} : {agentNamespace: flags['agent-namespace']}),
      ...(flags['node-timeout'] === undefined ? {} : {nodeTimeoutMs: flags['node-timeout']}),
    },
  }
}

export const nodeAccessFlags = {
  ...podAccessFlags,
  'node-access': Flags.option({
    options: NODE_ACCESS_MODES,
    description:
      'how node datapath evidence is read: pod (a short-lived pod on each node; default with a live cluster), agent (exec into an existing DaemonSet pod), local (this host), netns (ip netns exec), ssh (the node over ssh), docker (docker exec into a kind/k3d node container), none (API only)',
    helpGroup: 'NODES',
  })(),
  'netns-map': Flags.custom<Map<string, string>>({
    description: 'with --node-access netns: NODE=NETNS,… (which namespace plays which node)',
    parse: async (input) => parseNodeMap(input, 'netns-map'),
    helpGroup: 'NODES',
  })(),
  'ssh-user': Flags.custom<string>({
    description: "with --node-access ssh: log in as USER (default: the ssh config's User, else your local user name)",
    parse: async (input) => {
      if (!isSshUser(input)) throw badInput(`--ssh-user: "${input}" is not a user name (letters, digits, '.', '_', '-')`)
      return input
    },
    helpGroup: 'NODES',
  })(),
  'ssh-host-map': Flags.custom<Map<string, string>>({
    description: "with --node-access ssh: NODE=HOST,… (default: each node's InternalIP)",
    parse: async (input) => parseNodeMap(input, 'ssh-host-map', {valid: isSafeHost, help: 'NODE=HOST (a host name or an IP address)'}),
    helpGroup: 'NODES',
  })(),
  'ssh-identity': Flags.custom<string>({
    description: 'with --node-access ssh: private key file (ssh -i, IdentitiesOnly)',
    parse: async (input) => existingFile(input, 'ssh-identity'),
    helpGroup: 'NODES',
  })(),
  'ssh-config': Flags.custom<string>({
    description: 'with --node-access ssh: ssh config file used instead of ~/.ssh/config and /etc/ssh/ssh_config (ssh -F)',
    parse: async (input) => existingFile(input, 'ssh-config'),
    helpGroup: 'NODES',
  })(),
  'ssh-sudo': Flags.option({
    options: SSH_SUDO_MODES,
    description: 'with --node-access ssh: run the commands under sudo -n (auto: unless the ssh user is root)',
    helpGroup: 'NODES',
  })(),
  'docker-container-map': Flags.custom<Map<string, string>>({
    description: "with --node-access docker: NODE=CONTAINER,… (default: the container named after the node, as kind and k3d name them)",
    parse: async (input) => parseNodeMap(input, 'docker-container-map', {valid: isSafeName, help: "NODE=CONTAINER (letters, digits, '.', '_', '-')"}),
    helpGroup: 'NODES',
  })(),
}

/** User names ssh is given with -l: never starting with '-', nothing a shell or ssh reads specially. */
export function isSshUser(user: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(user)
}

function existingFile(input: string, flag: string): string {
  const file = resolve(input)
  let isFile = false
  try {
    isFile = statSync(file).isFile()
  } catch {
    // reported below
  }
  if (!isFile) throw badInput(`--${flag}: no such file: ${input}`)
  return file
}

export interface RemoteAccessFlags {
  'node-access'?: NodeAccessMode
  'ssh-user'?: string
  'ssh-host-map'?: Map<string, string>
  'ssh-identity'?: string
  'ssh-config'?: string
  'ssh-sudo'?: SshSudoMode
  'docker-container-map'?: Map<string, string>
}

/** The ssh and docker flags as capture options; each applies only with its own --node-access. */
export function remoteAccessOptions(flags: RemoteAccessFlags): {ssh?: SshAccessOptions; docker?: DockerAccessOptions} {
  const ssh = (['ssh-user', 'ssh-host-map', 'ssh-identity', 'ssh-config', 'ssh-sudo'] as const).filter((f) => flags[f] !== undefined)
  if (ssh.length > 0 && flags['node-access'] !== 'ssh') throw badInput(`${ssh.map((f) => `--${f}`).join(', ')} only ${ssh.length === 1 ? 'applies' : 'apply'} with --node-access ssh`)
  if (flags['docker-container-map'] && flags['node-access'] !== 'docker') throw badInput('--docker-container-map only applies with --node-access docker')
  if (flags['node-access'] === 'ssh') {
    return {
      ssh: {
        ...(flags['ssh-user'] === undefined ? {} : {user: flags['ssh-user']}),
        ...(flags['ssh-host-map'] === undefined ? {} : {hostMap: flags['ssh-host-map']}),
        ...(flags['ssh-identity'] === undefined ? {} : {identity: flags['ssh-identity']}),
        ...(flags['ssh-config'] === undefined ? {} : {config: flags['ssh-config']}),
        ...(flags['ssh-sudo'] === undefined ? {} : {sudo: flags['ssh-sudo']}),
      },
    }
  }
  if (flags['node-access'] === 'docker') return {docker: flags['docker-container-map'] ? {containerMap: flags['docker-container-map']} : {}}
  return {}
}

// ---- Analysis flags (doctor; trace to follow): appended, shared by the analysis commands. ----

export const OUTPUT_FORMATS = DOCTOR_FORMATS
export type OutputFormat = DoctorFormat

export const snapshotFlag = {
  snapshot: Flags.string({description: 'analyse a snapshot file written by `knet snapshot` instead of gathering live', helpGroup: 'SOURCE'}),
}

export const outputFormatFlag = {
  output: Flags.option({char: 'o', options: OUTPUT_FORMATS, default: 'table' as OutputFormat, description: 'output format: table (human: one row per fault, -v for every finding per node), json, yaml, junit, sarif, html (one self-contained page, for CI artifacts)'})(),
}

/** -v/--verbose: the full human view (every hop, every finding per node, all evidence). */
export function verboseFlag(description: string) {
  return {verbose: Flags.boolean({char: 'v', description})}
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
