/**
 * `--node-access docker`: nodes that are containers on this machine (kind, k3d — the usual CI
 * cluster), read with `docker exec CONTAINER argv…`. argv stays an array end to end: docker passes
 * it to the container runtime as it is, with no shell on either side.
 */
import {isSafeName} from '../../cli/flags.js'
import type {CollectionError} from '../../report/collection-error.js'
import {badInput} from '../../report/errors.js'
import type {ClusterEvidence} from '../cluster/evidence.js'
import {isCatalogArgv, type CatalogCommand} from './catalog.js'
import {findExecutable} from './client-on-path.js'
import type {NodeTarget} from './gather-node.js'
import {runArgv, type ExecOutcome, type NodeTransport} from './transport.js'

export interface DockerAccessOptions {
  /** --docker-container-map: node name → container, when the container is not named after the node. */
  containerMap?: Map<string, string>
  /** --nodes/--node-selector: contact only these nodes. */
  only?: ReadonlySet<string>
}

const CLIENT_MISSING = 'docker is not installed on this machine (--node-access docker runs the docker CLI)'
// The daemon, not the command, failed: no such container, container stopped, daemon unreachable.
const DOCKER_FAILED = /^(Error response from daemon:.*|Cannot connect to the Docker daemon.*|error during connect:.*)$/m
// The runtime could not find the program in the container (126 on older engines, 127 on newer).
const EXEC_NOT_FOUND = /executable file not found|no such file or directory/i

/** The local argv for one command. LC_ALL=C as on every transport: parsers rely on untranslated text. */
export function dockerArgv(container: string, argv: readonly string[]): string[] {
  if (!isSafeName(container)) throw new Error(`invalid container name: ${JSON.stringify(container)}`)
  return ['docker', 'exec', '--env', 'LC_ALL=C', container, ...argv]
}

/** A node container. After docker itself fails once (no such container, no daemon), the rest are not tried. */
export class DockerTransport implements NodeTransport {
  readonly kind = 'docker'
  readonly target: string
  private down?: string

  constructor(container: string) {
    if (!isSafeName(container)) throw new Error(`invalid container name: ${JSON.stringify(container)}`)
    this.target = container
  }

  async exec(command: CatalogCommand, signal?: AbortSignal): Promise<ExecOutcome> {
    const execArgv = dockerArgv(this.target, command.argv)
    if (this.down !== undefined) {
      if (!isCatalogArgv(command.argv)) throw new Error(`refusing to run a command outside the catalogue: ${command.argv.join(' ')}`)
      return {execArgv, exitCode: null, stdout: '', stderr: '', durationMs: 0, timedOut: false, truncated: false, notFound: false, error: this.down}
    }
    const outcome = interpretDockerOutcome(await runArgv(command, execArgv, signal), this.target)
    if (outcome.error !== undefined) this.down = outcome.error
    return outcome
  }
}

/** docker's own failures become one-line transport errors; a program missing in the container is notFound. */
export function interpretDockerOutcome(outcome: ExecOutcome, container: string): ExecOutcome {
  // runArgv reports ENOENT of the program it started, which here is the local docker client.
  if (outcome.notFound) return {...outcome, notFound: false, error: CLIENT_MISSING}
  if (outcome.timedOut || outcome.truncated || outcome.error !== undefined || outcome.exitCode === 0) return outcome
  if ((outcome.exitCode === 126 || outcome.exitCode === 127) && EXEC_NOT_FOUND.test(outcome.stderr)) return {...outcome, notFound: true}
  const daemon = DOCKER_FAILED.exec(outcome.stderr)?.[0]
  if (daemon) return {...outcome, error: `docker exec into ${container} failed: ${daemon.trim()}`}
  return outcome
}

/**
 * One target per node: the cluster's nodes and any mapped node the cluster does not list; the
 * container is the mapped one, else the node's own name (how kind and k3d name them).
 */
export function dockerTargets(
  cluster: ClusterEvidence | null,
  options: DockerAccessOptions,
  hasClient: boolean = findExecutable('docker') !== undefined,
): {targets: NodeTarget[]; errors: CollectionError[]} {
  const map = options.containerMap ?? new Map<string, string>()
  const names = [...(cluster?.objects.nodes ?? [])]
    .map((n) => (n as {metadata?: {name?: unknown}}).metadata?.name)
    .filter((n): n is string => typeof n === 'string')
  if (names.length === 0 && map.size === 0) {
    throw badInput('--node-access docker needs nodes: cluster objects (the API or --objects) or --docker-container-map NODE=CONTAINER,…')
  }
  const errors: CollectionError[] = []
  const containers = new Map<string, string>()
  for (const node of names) {
    if (isSafeName(node)) containers.set(node, map.get(node) ?? node)
    else errors.push({node, source: 'node-access', kind: 'bad-input', message: `node name ${JSON.stringify(node)} is not a valid container name; not contacted`})
  }
  for (const [node, container] of map) if (!containers.has(node)) containers.set(node, container)
  if (options.only) {
    for (const node of containers.keys()) if (!options.only.has(node)) containers.delete(node)
  }
  if (!hasClient) {
    return {targets: [], errors: [...errors, ...[...containers.keys()].map((node): CollectionError => ({node, source: 'node-access', kind: 'not-found', message: CLIENT_MISSING}))]}
  }
  return {targets: [...containers].map(([name, container]) => ({name, transport: new DockerTransport(container)})), errors}
}
