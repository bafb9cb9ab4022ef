/** `ip [-6] -j rule show`: policy routing rules. */
import {parseCidr, type Family} from '../../net/cidr.js'
import {problem, type ParseProblem, type ParseResult} from '../result.js'
import {entryFields, normaliseTable, parseU32, readJsonArray, safeStringify, type Fields} from './json.js'
import {setIf} from './links.js'

export type RuleAction = 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit' | 'nat'

export interface PortRange {
  start: number
  end: number
}

export interface Rule {
  family: Family
  priority: number
  /** The selector is inverted ("not from …"). */
  not: boolean
  /** Normalised CIDR; absent means "from all". */
  src?: string
  dst?: string
  iif?: string
  oif?: string
  /** The named interface does not exist (rule never matches until it does). */
  iifDetached?: boolean
  oifDetached?: boolean
  fwmark?: number
  /** Defaults to 0xffffffff when a fwmark is given without a mask, as the kernel does. */
  fwmask?: number
  tos?: string
  action: RuleAction
  table?: string
  /** Target priority of a goto. */
  goto?: number
  /** "suppress_prefixlength N": ignore lookup results with prefix length <= N. */
  suppressPrefixLength?: number
  suppressIfgroup?: string
  l3mdev: boolean
  uidRange?: PortRange
  ipproto?: string
  sport?: PortRange
  dport?: PortRange
  protocol?: string
  index: number
}

export function parseRules(text: string, family: Family): ParseResult<Rule[]> {
  const problems: ParseProblem[] = []
  const value: Rule[] = []
  readJsonArray(text, 'ip rule', problems).forEach((entry, i) => {
    const f = entryFields(entry, 'ip rule', i, problems)
    if (!f) return
    const rule = readRule(f, i, family, problems)
    if (rule) value.push(rule)
  })
  return {value, problems}
}

function readRule(f: Fields, index: number, family: Family, problems: ParseProblem[]): Rule | undefined {
  const where = `ip rule[${index}]`
  const priority = f.num('priority')
  if (priority === undefined) {
    problems.push(problem(0, `${where}: missing priority`, safeStringify(f.obj)))
    return undefined
  }
  const rule: Rule = {family, priority, not: f.flag('not'), action: 'lookup', l3mdev: f.flag('l3mdev'), index}
  for (const side of ['src', 'dst'] as const) {
    const addr = f.str(side)
    if (addr === undefined || addr === 'all') continue
    const len = f.num(`${side}len`)
    const cidr = parseCidr(len === undefined ? addr : `${addr}/${len}`)
    if (!cidr) {
      problems.push(problem(0, `${where}: unreadable ${side} "${addr}"`, safeStringify(f.obj)))
      return undefined
    }
    rule[side] = cidr.text
    rule.family = cidr.family
  }
  setIf(rule, 'iif', f.str('iif'))
  setIf(rule, 'oif', f.str('oif'))
  if (f.flag('iif_detached')) rule.iifDetached = true
  if (f.flag('oif_detached')) rule.oifDetached = true
  const mark = f.strOrNum('fwmark')
  if (mark !== undefined) {
    const fwmark = parseU32(mark)
    const fwmask = parseU32(f.strOrNum('fwmask') ?? '0xffffffff')
    if (fwmark === undefined || fwmask === undefined) {
      problems.push(problem(0, `${where}: unreadable fwmark/fwmask`, safeStringify(f.obj)))
      return undefined
    }
    rule.fwmark = fwmark
    rule.fwmask = fwmask
  }
  setIf(rule, 'tos', f.strOrNum('tos') ?? f.strOrNum('dsfield'))
  const table = f.strOrNum('table')
  if (table !== undefined) rule.table = normaliseTable(table)
  const gotoTarget = f.num('goto')
  const action = f.str('action')
  if (gotoTarget !== undefined) {
    rule.action = 'goto'
    rule.goto = gotoTarget
  } else if (action !== undefined) {
    if (!['blackhole', 'unreachable', 'prohibit', 'nop', 'nat', 'goto', 'lookup', 'to_tbl'].includes(action)) {
      problems.push(problem(0, `${where}: unknown action "${action}"`, safeStringify(f.obj)))
      return undefined
    }
    rule.action = action === 'to_tbl' ? 'lookup' : (action as RuleAction)
  } else if (table === undefined && !rule.l3mdev) {
    // A rule with neither action nor table is how iproute2 prints FR_ACT_NOP in some versions.
    rule.action = 'nop'
  }
  setIf(rule, 'suppressPrefixLength', f.num('suppress_prefixlen') ?? f.num('suppress_prefixlength'))
  setIf(rule, 'suppressIfgroup', f.strOrNum('suppress_ifgroup'))
  const uidStart = f.num('uid_start')
  const uidEnd = f.num('uid_end')
  if (uidStart !== undefined && uidEnd !== undefined) rule.uidRange = {start: uidStart, end: uidEnd}
  setIf(rule, 'ipproto', f.strOrNum('ipproto'))
  setIf(rule, 'sport', readRange(f, 'sport'))
  setIf(rule, 'dport', readRange(f, 'dport'))
  setIf(rule, 'protocol', f.strOrNum('protocol'))
  return rule
}

/** A single port prints as "dport": 80, a range as "dport_start"/"dport_end". */
function readRange(f: Fields, key: string): PortRange | undefined {
  const one = f.num(key)
  if (one !== undefined) return {start: one, end: one}
  const start = f.num(`${key}_start`)
  const end = f.num(`${key}_end`)
  return start !== undefined && end !== undefined ? {start, end} : undefined
}

/** iproute2 prints host selectors without the /32 or /128. */
function hostBare(cidr: string): string {
  return cidr.endsWith('/32') || cidr.endsWith('/128') ? cidr.slice(0, cidr.lastIndexOf('/')) : cidr
}

/** The rule as `ip rule` prints it, for evidence trails; a live test checks it against the real text. */
export function describeRule(r: Rule): string {
  const parts = [`${r.priority}:`]
  if (r.not) parts.push('not')
  parts.push('from', r.src ? hostBare(r.src) : 'all')
  if (r.dst) parts.push('to', hostBare(r.dst))
  if (r.fwmark !== undefined) parts.push('fwmark', `0x${r.fwmark.toString(16)}${r.fwmask === 0xffffffff ? '' : `/0x${(r.fwmask ?? 0).toString(16)}`}`)
  if (r.iif) parts.push('iif', r.iif)
  if (r.oif) parts.push('oif', r.oif)
  if (r.uidRange) parts.push('uidrange', `${r.uidRange.start}-${r.uidRange.end}`)
  if (r.ipproto) parts.push('ipproto', r.ipproto)
  if (r.dport) parts.push('dport', r.dport.start === r.dport.end ? String(r.dport.start) : `${r.dport.start}-${r.dport.end}`)
  if (r.l3mdev) parts.push('lookup [l3mdev-table]')
  if (r.action === 'lookup' && r.table) parts.push('lookup', r.table)
  else if (r.action === 'goto') parts.push('goto', String(r.goto))
  else if (r.action !== 'lookup') parts.push(r.action)
  if (r.suppressPrefixLength !== undefined) parts.push('suppress_prefixlength', String(r.suppressPrefixLength))
  return parts.join(' ')
}
