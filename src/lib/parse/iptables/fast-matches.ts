/**
 * Shortcuts for the match shapes that make up most of a kube-proxy dump (`-m comment --comment X`,
 * `-m tcp --dport N`, `-m statistic --mode random --probability P`, `-m mark [!] --mark V/M`). They
 * read the words directly instead of building option objects first, which roughly halves the
 * allocation per rule on a 400k-line dump. Anything not exactly in these shapes returns null and goes
 * through the general readers in matches.ts, which produce the same result (tests compare both).
 */
import type {IptablesMatch} from './types.js'
import {NO_OPTIONS} from './matches.js'
import {readMarkMask, readPortRange} from './values.js'

/** Whether words[k] ends a match's options: end of line, or the next -m / -j / -g. */
function endsGroup(words: string[], k: number): boolean {
  if (k >= words.length) return true
  const w = words[k]
  return w === '-m' || w === '-j' || w === '-g' || w === '--match' || w === '--jump' || w === '--goto'
}

function plainArg(words: string[], k: number, quoted: Set<number> | null): string | null {
  const w = words[k]
  if (w === undefined) return null
  if (quoted !== null && quoted.has(k)) return w
  return w === '!' || (w.length > 1 && w.charCodeAt(0) === 45) ? null : w
}

/** A typed match and the index after its options, or null when the general path must handle it. */
export function fastMatch(module: string, words: string[], i: number, quoted: Set<number> | null): {match: IptablesMatch; next: number} | null {
  const opt = words[i]
  if (quoted !== null && quoted.has(i)) return null
  switch (module) {
    case 'comment': {
      const arg = opt === '--comment' ? plainArg(words, i + 1, quoted) : null
      if (arg === null || !endsGroup(words, i + 2)) return null
      return {match: {kind: 'comment', module, extra: NO_OPTIONS, comment: arg}, next: i + 2}
    }
    case 'tcp': case 'udp': case 'sctp': {
      if ((opt !== '--dport' && opt !== '--sport') || !endsGroup(words, i + 2)) return null
      const arg = plainArg(words, i + 1, quoted)
      const r = arg === null ? null : readPortRange(arg)
      if (!r) return null
      const ports = {ranges: [r], negated: false}
      return {
        match: {kind: module, module, extra: NO_OPTIONS, sport: opt === '--sport' ? ports : null, dport: opt === '--dport' ? ports : null, tcpFlags: null},
        next: i + 2,
      }
    }
    case 'statistic': {
      if (opt !== '--mode' || words[i + 1] !== 'random' || words[i + 2] !== '--probability' || !endsGroup(words, i + 4)) return null
      const arg = plainArg(words, i + 3, quoted)
      const p = arg === null ? NaN : Number(arg)
      if (!Number.isFinite(p) || p < 0 || p > 1) return null
      return {match: {kind: 'statistic', module, extra: NO_OPTIONS, mode: 'random', probability: p, negated: false}, next: i + 4}
    }
    case 'mark': {
      const negated = opt === '!'
      const at = negated ? i + 1 : i
      if (words[at] !== '--mark' || !endsGroup(words, at + 2)) return null
      const arg = plainArg(words, at + 1, quoted)
      const mm = arg === null ? null : readMarkMask(arg)
      if (!mm) return null
      return {match: {kind: 'mark', module, extra: NO_OPTIONS, value: mm.value, mask: mm.mask, negated}, next: at + 2}
    }
    default:
      return null
  }
}
