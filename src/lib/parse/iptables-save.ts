/**
 * Parser for iptables-save / ip6tables-save / iptables-legacy-save output (with or without -c).
 * Line-oriented and linear: a line that cannot be read becomes a problem and the rest still parses,
 * because a partial dump from a broken node is exactly the evidence a diagnosis needs.
 */
import {readCounters, readRule} from './iptables/rule.js'
import {patternRule, resetPatternState} from './iptables/rule-pattern.js'
import {clearScanCache} from './iptables/scan-rule.js'
import type {Counters, IptablesChain, IptablesDump, IptablesRule, IptablesTable} from './iptables/types.js'
import {problem, type ParseProblem, type ParseResult} from './result.js'

export type * from './iptables/types.js'

/** ":NAME POLICY [pkts:bytes]" as iptables-save prints it; other spacing goes through the general reader below. */
const CHAIN_LINE = /^:([^ ]+) ([^ ]+) \[([0-9]{1,20}):([0-9]{1,20})\]$/

/** `zero` is this dump's shared [0:0] (nearly every chain's counters without -c). */
function readChainLine(text: string, line: number, zero: Counters): IptablesChain | string {
  const m = CHAIN_LINE.exec(text)
  if (m !== null) {
    const policy = m[2] as string
    const packets = m[3] as string
    const bytes = m[4] as string
    const counters = packets === '0' && bytes === '0' ? zero : {packets: Number(packets), bytes: Number(bytes)}
    return {name: m[1] as string, policy: policy === '-' ? null : policy, counters, line, rules: []}
  }
  // ":NAME POLICY [pkts:bytes]"; chain names cannot contain spaces.
  const parts = text.slice(1).split(' ').filter((p) => p.length > 0)
  const [name, policy, counterText] = parts
  if (!name) return 'chain line without a name'
  if (policy === undefined) return `chain ${name} without a policy`
  if (parts.length > 3) return `unexpected text after chain ${name}`
  let counters = null
  if (counterText !== undefined) {
    counters = readCounters(counterText)
    if (!counters) return `bad counters "${counterText}" on chain ${name}`
  }
  return {name, policy: policy === '-' ? null : policy, counters, line, rules: []}
}

export function parseIptablesSave(text: string): ParseResult<IptablesDump> {
  const problems: ParseProblem[] = []
  const tables: IptablesTable[] = []
  let table: IptablesTable | null = null
  const lines = typeof text === 'string' ? text.split('\n') : []
  const knownChain = (name: string): boolean => table?.chainIndex.has(name) ?? false
  const zero: Counters = {packets: 0, bytes: 0}
  // The chain of the previous rule, and its rules read since: a chain's rules are stored in one
  // exact-size array when the next chain starts, not grown by push (which reserves 17 slots, and a
  // kube-proxy dump has tens of thousands of two-rule chains for the collector to copy).
  let lastChain: IptablesChain | undefined
  const pending: IptablesRule[] = []
  const flush = (): void => {
    if (lastChain === undefined || pending.length === 0) return
    lastChain.rules = lastChain.rules.length === 0 ? pending.slice() : lastChain.rules.concat(pending)
    pending.length = 0
  }

  for (let idx = 0; idx < lines.length; idx++) {
    const lineNo = idx + 1
    let raw = lines[idx] as string
    if (raw.endsWith('\r')) raw = raw.slice(0, -1)
    const first = raw.charCodeAt(0)
    if (raw.length === 0 || first === 35 /* # */) continue
    if (first === 42 /* * */) {
      if (table && !table.committed) problems.push(problem(lineNo, `table ${table.name} has no COMMIT before the next table`, raw))
      const name = raw.slice(1).trim()
      if (name.length === 0 || name.includes(' ')) {
        problems.push(problem(lineNo, 'bad table line', raw))
        flush()
        lastChain = undefined
        table = null
        continue
      }
      table = {name, line: lineNo, chains: [], chainIndex: new Map(), committed: false}
      flush()
      lastChain = undefined
      tables.push(table)
      continue
    }
    if (first === 67 /* C */ && raw.trimEnd() === 'COMMIT') {
      if (!table || table.committed) problems.push(problem(lineNo, 'COMMIT outside a table', raw))
      else table.committed = true
      continue
    }
    if (!table || table.committed) {
      problems.push(problem(lineNo, 'line outside a table (no *table header before it)', raw))
      continue
    }
    if (first === 58 /* : */) {
      const chain = readChainLine(raw, lineNo, zero)
      if (typeof chain === 'string') problems.push(problem(lineNo, chain, raw))
      else if (table.chainIndex.has(chain.name)) problems.push(problem(lineNo, `chain ${chain.name} declared twice`, raw))
      else {
        table.chains.push(chain)
        table.chainIndex.set(chain.name, chain)
      }
      continue
    }
    if (first === 45 /* - */ || first === 91 /* [ */) {
      const read = patternRule(raw, lineNo, table.chainIndex, knownChain) ?? readRule(raw, lineNo, knownChain)
      let rule: IptablesRule
      if (typeof read === 'string') {
        problems.push(problem(lineNo, read, raw))
        // Issue 15: an unreadable rule stays in its chain as a placeholder; evaluating it is unknown.
        const stub = unreadableRule(raw, lineNo, read)
        if (!stub) continue
        rule = stub
      } else rule = read
      // Rules of one chain are consecutive, so the last lookup usually answers without hashing.
      if (lastChain === undefined || lastChain.name !== rule.chain) {
        flush()
        lastChain = table.chainIndex.get(rule.chain)
      }
      if (lastChain === undefined) problems.push(problem(lineNo, `rule for undeclared chain ${rule.chain}`, raw))
      else {
        rule.chain = lastChain.name // the declared string: this line's copy can go
        pending.push(rule)
      }
      continue
    }
    problems.push(problem(lineNo, 'unknown line type', raw))
  }
  if (table && !table.committed) problems.push(problem(lines.length, `table ${table.name} has no COMMIT at end of input`))
  flush()
  clearScanCache()
  resetPatternState()
  return {value: {tables}, problems}
}

/** The table of this name, if the dump has it. */
export function iptablesTable(dump: IptablesDump, name: string): IptablesTable | undefined {
  return dump.tables.find((t) => t.name === name)
}

/** "-A CHAIN …" (or "[p:b] -A CHAIN …") that could not be read, as a rule that matches nothing known. */
function unreadableRule(raw: string, line: number, why: string): IptablesRule | undefined {
  const m = /^(?:\[[0-9]+:[0-9]+\] )?-A (\S+)/.exec(raw)
  if (!m?.[1]) return undefined
  return {line, raw, chain: m[1], counters: null, src: null, dst: null, protocol: null, inIface: null, outIface: null, fragment: null, matches: [], target: null, unreadable: why}
}
