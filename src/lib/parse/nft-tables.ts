/**
 * Which nftables tables iptables-nft owns, so that a node's nft evidence lists only the others.
 *
 * iptables-nft keeps its tables (ip/ip6 filter, nat, mangle, raw, security) as ordinary nftables
 * tables whose rules are `xt` compat blobs; `nft -j list ruleset` repeats each of them as JSON
 * (a 10,000-Service node: 70 MB for a 16 MB iptables-save). The evaluator reads those tables from
 * iptables-save and puts them at iptables' fixed hook priorities (nftables/pipeline.ts), so their
 * nft listing adds nothing. A table is taken as iptables-nft's only when iptables-save of the same
 * family was read from the nf_tables backend and prints that table; anything else (a hand-written
 * `table ip filter`, a legacy iptables, a failed iptables-save) is listed in full, as before.
 */
import type {NftRuleset, NftTable} from './nft.js'

export const XTABLES_TABLES: ReadonlySet<string> = new Set(['raw', 'mangle', 'nat', 'filter', 'security'])

export interface IptablesSaveSeen {
  /** iptables-save's stdout for this family, when it ran successfully. */
  stdout?: string
  /** The backend `iptables --version` names; iptables-save and iptables come from the same alternative. */
  backend?: 'nf_tables' | 'legacy'
}

/** True when iptables-save (nf_tables backend) holds this table's rules: its nft listing is a duplicate. */
export function ownedByIptablesNft(table: Pick<NftTable, 'family' | 'name'>, seen: IptablesSaveSeen): boolean {
  if ((table.family !== 'ip' && table.family !== 'ip6') || !XTABLES_TABLES.has(table.name)) return false
  if (seen.backend !== 'nf_tables' || seen.stdout === undefined) return false
  return seen.stdout.startsWith(`*${table.name}\n`) || seen.stdout.includes(`\n*${table.name}\n`)
}

/** The tables a listing names, in order: its table entries, then the tables of its chains (`nft -j list chains` has only chains). */
export function nftTablesNamed(rs: Pick<NftRuleset, 'tables' | 'chains'>): {family: string; name: string}[] {
  const seen = new Map<string, {family: string; name: string}>()
  for (const t of rs.tables) seen.set(`${t.family} ${t.name}`, {family: t.family, name: t.name})
  for (const c of rs.chains) if (!seen.has(`${c.family} ${c.table}`)) seen.set(`${c.family} ${c.table}`, {family: c.family, name: c.table})
  return [...seen.values()]
}
