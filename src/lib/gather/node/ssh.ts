/**
 * `--node-access ssh`: the catalogue over OpenSSH, for nodes that are reachable by ssh but where
 * knet may not create pods. ssh runs in BatchMode (never a password or passphrase prompt) and
 * sends its remote command as one line that the node's login shell splits again, so the argv is
 * POSIX-quoted (shell-quote.ts) — the only place in knet where a command becomes a string, and
 * only ever a catalogue command with a fixed prefix.
 */
import {isIP} from 'node:net'
import {userInfo} from 'node:os'
import {isSafeHost, isSafeName, isSshUser, type SshSudoMode} from '../../cli/flags.js'
import type {CollectionError} from '../../report/collection-error.js'
import {badInput} from '../../report/errors.js'
import type {ClusterEvidence} from '../cluster/evidence.js'
import {isCatalogArgv, type CatalogCommand} from './catalog.js'
import {findExecutable} from './client-on-path.js'
import type {NodeTarget} from './gather-node.js'
import {quoteArgv} from './shell-quote.js'
import {runArgv, type ExecOutcome, type NodeTransport} from './transport.js'

/** Time an ssh session may take on top of a catalogue command's own limit. */
export const SSH_SESSION_ALLOWANCE_MS = 20_000

export interface SshOptions {
  /** `-l USER`; unset: ssh's own choice (the ssh config's User, else the local user name). */
  user?: string
  /** `-i FILE` (with IdentitiesOnly, so an agent's other keys do not use up MaxAuthTries). */
  identity?: string
  /** `-F FILE`: this file instead of ~/.ssh/config and /etc/ssh/ssh_config. */
  config?: string
  /** auto: `sudo -n` unless the remote user is root (see remoteUserIsRoot). */
  sudo?: SshSudoMode
  connectTimeoutSeconds?: number
}

export interface SshAccessOptions extends SshOptions {
  /** --ssh-host-map: node name → host, instead of the node's InternalIP. */
  hostMap?: Map<string, string>
  /** --nodes/--node-selector: contact only these nodes. */
  only?: ReadonlySet<string>
}

// Fixed, so the tools in sbin are found for any user and the result does not depend on the
// node's login environment. LC_ALL=C: parsers and stderr classification rely on untranslated text.
const REMOTE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const DEFAULT_CONNECT_TIMEOUT_S = 5

/** ssh exits 255 for its own errors (connect, host key, authentication); catalogue commands never do. */
const SSH_FAILED = 255
/** env (and the shell, for a missing sudo) exit 127 when a program does not exist. */
const NOT_FOUND = 127
const SUDO_MISSING = /\bsudo: (command )?not found|command not found: sudo/

/** Whether the remote commands run under `sudo -n`. */
export function usesSudo(options: SshOptions): boolean {
  const mode = options.sudo ?? 'auto'
  if (mode !== 'auto') return mode === 'always'
  // Without --ssh-user, ssh logs in as the local user unless the ssh config says otherwise; an
  // ssh config that names another user needs --ssh-user (or --ssh-sudo) to be known here.
  return (options.user ?? localUserName()) !== 'root'
}

function localUserName(): string {
  try {
    return userInfo().username
  } catch {
    return ''
  }
}

/** The exact program line the node's shell receives: fixed prefix + catalogue argv, each word quoted. */
export function remoteCommandLine(argv: readonly string[], options: SshOptions): string {
  return quoteArgv([...(usesSudo(options) ? ['sudo', '-n'] : []), 'env', 'LC_ALL=C', `PATH=${REMOTE_PATH}`, ...argv])
}

/** The local ssh argv for one command; `--` ends ssh's options, so no host can be read as one. */
export function sshArgv(host: string, argv: readonly string[], options: SshOptions): string[] {
  if (!isSafeHost(host)) throw new Error(`invalid ssh host: ${JSON.stringify(host)}`)
  return [
    'ssh',
    '-T',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_S}`,
    // Keeps "Warning: Permanently added …" and banners out of the recorded stderr.
    '-o', 'LogLevel=ERROR',
    ...(options.config ? ['-F', options.config] : []),
    ...(options.identity ? ['-i', options.identity, '-o', 'IdentitiesOnly=yes'] : []),
    ...(options.user ? ['-l', options.user] : []),
    '--',
    host,
    remoteCommandLine(argv, options),
  ]
}

/** A node over ssh. After ssh itself fails once (unreachable, refused, auth), the rest are not tried. */
export class SshTransport implements NodeTransport {
  readonly kind = 'ssh'
  readonly target: string
  private readonly options: SshOptions
  private down?: string

  constructor(host: string, options: SshOptions = {}) {
    if (!isSafeHost(host)) throw new Error(`invalid ssh host: ${JSON.stringify(host)}`)
    if (options.user !== undefined && !isSshUser(options.user)) throw new Error(`invalid ssh user: ${JSON.stringify(options.user)}`)
    this.target = host
    this.options = options
  }

  async exec(command: CatalogCommand, signal?: AbortSignal): Promise<ExecOutcome> {
    const execArgv = sshArgv(this.target, command.argv, this.options)
    if (this.down !== undefined) {
      if (!isCatalogArgv(command.argv)) throw new Error(`refusing to run a command outside the catalogue: ${command.argv.join(' ')}`)
      return {execArgv, exitCode: null, stdout: '', stderr: '', durationMs: 0, timedOut: false, truncated: false, notFound: false, error: this.down}
    }
    // Each command is a new ssh session: key exchange and the remote login shell's start-up files
    // (a .bashrc that runs pyenv or nvm takes seconds) come on top of the command's own limit.
    const withSession = {...command, timeoutMs: command.timeoutMs + SSH_SESSION_ALLOWANCE_MS}
    const outcome = interpretSshOutcome(await runArgv(withSession, execArgv, signal), this.target, usesSudo(this.options))
    if (outcome.error !== undefined) this.down = outcome.error
    return outcome
  }
}

/**
 * ssh's and sudo's own failures become transport errors (one line, saying what to fix); a program
 * missing on the node becomes notFound, as for the other transports.
 */
export function interpretSshOutcome(outcome: ExecOutcome, host: string, sudo: boolean): ExecOutcome {
  const firstLine = (text: string) => text.split('\n').map((l) => l.trim()).find(Boolean) ?? ''
  // runArgv reports ENOENT of the program it started, which here is the local ssh client.
  if (outcome.notFound) return {...outcome, notFound: false, error: 'ssh is not installed on this machine (--node-access ssh runs the OpenSSH client)'}
  if (outcome.timedOut || outcome.truncated) return outcome
  if (outcome.exitCode === SSH_FAILED) {
    return {...outcome, error: `ssh to ${host} failed: ${firstLine(outcome.stderr) || 'exit 255'}`}
  }
  if (outcome.exitCode === NOT_FOUND) {
    // The shell's own words for a missing sudo (dash, bash, zsh); sudo's warnings do not count.
    if (sudo && SUDO_MISSING.test(outcome.stderr)) return {...outcome, error: `sudo is not installed on ${host} (log in as root with --ssh-user root, or --ssh-sudo never)`}
    return {...outcome, notFound: true}
  }
  // sudo's own refusal (password required, not in sudoers, not allowed); its warnings do not count.
  const sudoLine = /^sudo: (?!unable to resolve host).*$/m.exec(outcome.stderr)?.[0]
  if (sudo && outcome.exitCode !== 0 && sudoLine) {
    return {...outcome, error: `sudo -n on ${host} refused: ${sudoLine.trim()} (knet needs passwordless sudo for its read-only commands)`}
  }
  return outcome
}

/**
 * One target per node: the cluster's nodes (host: --ssh-host-map, else the node's InternalIP) and
 * any mapped node the cluster does not list. A node knet cannot reach is a collection error.
 */
export function sshTargets(
  cluster: ClusterEvidence | null,
  options: SshAccessOptions,
  hasClient: boolean = findExecutable('ssh') !== undefined,
): {targets: NodeTarget[]; errors: CollectionError[]} {
  const hostMap = options.hostMap ?? new Map<string, string>()
  const clusterNodes = nodeAddresses(cluster)
  if (clusterNodes.length === 0 && hostMap.size === 0) {
    throw badInput('--node-access ssh needs nodes: cluster objects (the API or --objects) or --ssh-host-map NODE=HOST,…')
  }
  const errors: CollectionError[] = []
  const hosts = new Map<string, string>()
  for (const node of clusterNodes) {
    if (!isSafeName(node.name)) {
      errors.push({node: node.name, source: 'node-access', kind: 'bad-input', message: `node name ${JSON.stringify(node.name)} is not a valid node name; not contacted`})
      continue
    }
    const host = hostMap.get(node.name) ?? node.internalIp
    if (host === undefined) {
      errors.push({node: node.name, source: 'node-access', kind: 'not-found', message: `node ${node.name} has no InternalIP address to ssh to (--ssh-host-map ${node.name}=HOST)`})
    } else {
      hosts.set(node.name, host)
    }
  }
  for (const [node, host] of hostMap) if (!hosts.has(node)) hosts.set(node, host)
  if (options.only) {
    for (const node of hosts.keys()) if (!options.only.has(node)) hosts.delete(node)
  }
  if (!hasClient) {
    const message = 'ssh is not installed on this machine (--node-access ssh runs the OpenSSH client)'
    return {targets: [], errors: [...errors, ...[...hosts.keys()].map((node): CollectionError => ({node, source: 'node-access', kind: 'not-found', message}))]}
  }
  const targets = [...hosts].map(([name, host]) => ({name, transport: new SshTransport(host, options)}))
  return {targets, errors}
}

/** Each Node object's name and first valid InternalIP (in the order the API lists them). */
export function nodeAddresses(cluster: ClusterEvidence | null): {name: string; internalIp?: string}[] {
  const out: {name: string; internalIp?: string}[] = []
  for (const n of cluster?.objects.nodes ?? []) {
    const node = n as {metadata?: {name?: unknown}; status?: {addresses?: unknown}}
    const name = node.metadata?.name
    if (typeof name !== 'string') continue
    const addresses = Array.isArray(node.status?.addresses) ? (node.status.addresses as {type?: unknown; address?: unknown}[]) : []
    const internal = addresses.find((a) => a?.type === 'InternalIP' && typeof a.address === 'string' && isIP(a.address) !== 0)
    out.push(internal ? {name, internalIp: internal.address as string} : {name})
  }
  return out
}
