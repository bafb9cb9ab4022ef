/**
 * A node's nftables ruleset from its raw results. Two layouts replay to the same NftRuleset:
 * - `nft` (`nft -j list ruleset`, snapshots before issue 15 point 6): parsed as it is;
 * - `nft-chains` (`nft -j list chains`) plus one `nft-table:FAMILY:NAME` result per table that
 *   iptables-nft does not own (`nft -j list table FAMILY NAME`). A table the chains name without a
 *   listing of its own was left out because iptables-save holds its rules: it is kept with its base
 *   chains (hooks and priorities) and marked `owner: 'iptables-nft'`; its other chains and its
 *   rules are iptables-save's to give. Any other table without a good listing (one that timed out)
 *   keeps its chains and is marked `unread`: its rules are unknown, not absent (the evaluator stops
 *   at its base chains). An unread `kube-proxy` table also makes the `nft` evidence that listing's
 *   state, so the checks that read kube-proxy's rules skip the node.
 */
import {parseNftJson, type NftRuleset} from '../parse/nft.js'
import {nftTablesNamed, XTABLES_TABLES} from '../parse/nft-tables.js'
import type {CommandResult, NodeEvidence} from '../snapshot/schema.js'
import type {EvidenceState, ModelProblem} from './node.js'

const tableId = (family: string, name: string): string => `nft-table:${family}:${name}`

export function readNftEvidence(
  node: NodeEvidence,
  byId: ReadonlyMap<string, CommandResult>,
  problems: ModelProblem[],
  evidence: Record<string, EvidenceState>,
): NftRuleset | undefined {
  const state = (result: CommandResult | undefined, source: string): EvidenceState => ({
    status: result?.status ?? 'absent',
    ...(result?.reason === undefined ? {} : {reason: result.reason}),
    truncated: result?.truncated ?? false,
    source,
  })
  const parse = (result: CommandResult): NftRuleset => {
    const parsed = parseNftJson(result.stdout)
    for (const p of parsed.problems) problems.push({node: node.name, source: 'nft', ...p})
    return parsed.value
  }
  const full = byId.get('nft')
  const listing = byId.get('nft-chains')
  if (full || !listing) {
    evidence.nft = state(full, `${node.name}: ${full ? full.argv.join(' ') : 'nft'}`)
    return full?.status === 'ok' ? parse(full) : undefined
  }
  if (listing.status !== 'ok') {
    evidence.nft = state(listing, `${node.name}: ${listing.argv.join(' ')}`)
    return undefined
  }
  const chains = parse(listing)
  const out: NftRuleset = {metainfo: chains.metainfo, tables: [], chains: [], rules: [], sets: []}
  const listed: CommandResult[] = []
  /** kube-proxy's table when its rules are missing: the ruleset's evidence then says so. */
  let unread: EvidenceState | undefined
  for (const t of nftTablesNamed(chains)) {
    const result = byId.get(tableId(t.family, t.name))
    const ok = result?.status === 'ok' ? parse(result) : undefined
    const def = ok?.tables.find((x) => x.family === t.family && x.name === t.name)
    if (ok && def) {
      listed.push(result as CommandResult)
      out.tables.push(def)
      out.chains.push(...ok.chains)
      out.rules.push(...ok.rules)
      out.sets.push(...ok.sets)
      continue
    }
    const owned = !result && (t.family === 'ip' || t.family === 'ip6') && XTABLES_TABLES.has(t.name)
    const why = owned ? undefined : result ? `${result.argv.join(' ')}: ${result.status === 'ok' ? 'the table is not in its output' : (result.reason ?? result.status)}` : `table ${t.family} ${t.name} was not listed`
    out.tables.push({family: t.family, name: t.name, handle: -1, comment: null, ...(owned ? {owner: 'iptables-nft' as const} : {}), ...(why === undefined ? {} : {unread: why})})
    const own = chains.chains.filter((c) => c.family === t.family && c.table === t.name)
    // iptables-nft's regular chains are iptables-save's; only where its base chains hook in is needed.
    out.chains.push(...(owned ? own.filter((c) => c.hook !== null) : own))
    if (why === undefined) continue
    problems.push({node: node.name, source: 'nft', line: 0, message: `${why}; only its chains are known`})
    const missing = result && result.status !== 'ok' ? state(result, `${node.name}: ${result.argv.join(' ')}`) : {status: 'absent' as const, reason: why, truncated: false, source: `${node.name}: nft -j list table ${t.family} ${t.name}`}
    evidence[tableId(t.family, t.name)] = missing
    // The NAT checks read kube-proxy's table: unread, it is evidence missing, never a table with no Services.
    if (t.name === 'kube-proxy') unread ??= missing
  }
  // Findings quote the table they read (kube-proxy's when there is one), as they quoted the ruleset.
  const quoted = listed.find((r) => r.argv.at(-1) === 'kube-proxy') ?? (listed.length === 1 ? listed[0] : undefined)
  evidence.nft = unread ?? state(listing, `${node.name}: ${(quoted ?? listing).argv.join(' ')}`)
  return out
}
