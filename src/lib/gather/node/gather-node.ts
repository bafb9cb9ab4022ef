import type {CollectionError} from '../../report/collection-error.js'
import type {CommandResult, NodeEvidence} from '../../snapshot/schema.js'
import {CATALOG, nftTableCommand, type CatalogCommand} from './catalog.js'
import {parseIptablesVersion} from '../../parse/iptables-version.js'
import {parseNftJson} from '../../parse/nft.js'
import {nftTablesNamed, ownedByIptablesNft} from '../../parse/nft-tables.js'
import type {NodeProgressListener} from './progress.js'
import {runCommand} from './run-command.js'
import type {NodeTransport} from './transport.js'

export interface NodeTarget {
  name: string
  transport: NodeTransport
}

export interface GatherNodesOptions {
  commands?: readonly CatalogCommand[]
  /** Nodes gathered at once. */
  parallel?: number
  /** Commands run at once on one node (small: nodes under incident are often loaded). */
  perNodeParallel?: number
  /**
   * The least time each command is given (--timeout): a loaded node's `ip link` may
   * take longer than the catalogue's 10 s. A command whose own limit is longer keeps it.
   */
  commandTimeoutMs?: number
  signal?: AbortSignal
  onNodeDone?: (evidence: NodeEvidence) => void
  /** Each node as it starts and ends, for a progress display. */
  onNodeProgress?: NodeProgressListener
}

/** Gather the whole catalogue from each node; a node that fails is recorded, the rest go on. */
export async function gatherNodes(
  targets: readonly NodeTarget[],
  options: GatherNodesOptions = {},
): Promise<{nodes: NodeEvidence[]; errors: CollectionError[]}> {
  const commands = options.commands ?? CATALOG
  const floor = options.commandTimeoutMs
  options.onNodeProgress?.({kind: 'plan', nodes: targets.map((t) => t.name)})
  const nodes = await mapLimit(targets, options.parallel ?? 10, async (target) => {
    options.onNodeProgress?.({kind: 'start', node: target.name})
    const run = (c: CatalogCommand): Promise<CommandResult> => runCommand(target.transport, floor === undefined || c.timeoutMs >= floor ? c : {...c, timeoutMs: floor}, options.signal)
    const results = await mapLimit(commands, options.perNodeParallel ?? 4, run)
    // Second round: each nft table iptables-nft does not own, named by the first round's listing.
    const tables = nftTableCommands(results)
    if (tables.length > 0) results.push(...(await mapLimit(tables, options.perNodeParallel ?? 4, run)))
    const evidence: NodeEvidence = {name: target.name, access: {kind: target.transport.kind, target: target.transport.target}, results}
    options.onNodeProgress?.({kind: 'done', node: target.name})
    options.onNodeDone?.(evidence)
    return evidence
  })
  return {nodes, errors: nodes.flatMap(nodeCollectionErrors)}
}

/**
 * `nft -j list table F N` for each table `nft -j list chains` named, except those iptables-save
 * (nf_tables backend) holds: their nft JSON repeats every iptables rule (parse/nft-tables.ts).
 */
export function nftTableCommands(results: readonly CommandResult[]): CatalogCommand[] {
  const ok = (id: string): string | undefined => {
    const r = results.find((x) => x.id === id)
    return r?.status === 'ok' && !r.truncated ? r.stdout : undefined
  }
  const listing = ok('nft-chains')
  if (listing === undefined) return []
  const version = ok('iptables-version')
  const backend = version === undefined ? undefined : parseIptablesVersion(version).value?.backend
  const seen = {ip: {stdout: ok('iptables-save'), backend}, ip6: {stdout: ok('ip6tables-save'), backend}}
  const out: CatalogCommand[] = []
  for (const t of nftTablesNamed(parseNftJson(listing).value)) {
    if ((t.family === 'ip' || t.family === 'ip6') && ownedByIptablesNft(t, seen[t.family])) continue
    const c = nftTableCommand(t.family, t.name)
    if (c) out.push(c)
  }
  return out
}

/** Failed and timed-out commands become collection errors; "unavailable" is a fact about the node, not an error. */
export function nodeCollectionErrors(node: NodeEvidence): CollectionError[] {
  return node.results.filter((r) => r.status === 'failed' || r.status === 'timeout').map((r) => toError(node.name, r))
}

function toError(node: string, r: CommandResult): CollectionError {
  const kind = r.status === 'timeout' ? 'timeout' : r.reason?.startsWith('permission denied') ? 'forbidden' : 'command-failed'
  return {node, source: r.id, kind, message: `${r.argv.join(' ')}: ${r.reason ?? r.status}`}
}

/** Map with at most `limit` promises in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index] as T, index)
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker))
  return results
}
