/**
 * Parser for `iptables --version`: "iptables v1.8.9 (nf_tables)" or "iptables v1.8.4 (legacy)";
 * iptables before 1.8 prints no backend ("iptables v1.6.1"), and it is always legacy.
 */
import {problem, type ParseResult} from './result.js'

export interface IptablesVersion {
  /** "1.8.9" */
  version: string
  /** Which kernel backend this iptables (and its iptables-save) reads and writes. */
  backend: 'nf_tables' | 'legacy'
  /** The line as printed. */
  text: string
}

const LINE = /^(?:ip6?tables(?:-nft|-legacy)?) v([0-9]+(?:\.[0-9]+)*)(?: \((nf_tables|legacy)\))?\s*$/

export function parseIptablesVersion(text: string): ParseResult<IptablesVersion | undefined> {
  const lines = text.split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '') continue
    const m = LINE.exec(line)
    if (!m) return {value: undefined, problems: [problem(i + 1, 'not an iptables --version line', line)]}
    return {value: {version: m[1] as string, backend: m[2] === 'nf_tables' ? 'nf_tables' : 'legacy', text: line}, problems: []}
  }
  return {value: undefined, problems: [problem(0, 'empty output')]}
}

