/**
 * Sysctls as read by `grep -H . FILE…` / `grep -r -H . /proc/sys/net/ipv4/conf --include=rp_filter`:
 * one `PATH:VALUE` line per non-empty line of each file. Reading /proc through grep (instead of
 * `sysctl -a`) works in minimal images and keeps the exact file path as evidence.
 */
import {problem, type ParseProblem, type ParseResult} from './result.js'

export interface SysctlEntry {
  /** /proc/sys/net/ipv4/conf/eth0.100/rp_filter */
  path: string
  /** Dotted sysctl name, with dots inside a component written as "/": net.ipv4.conf.eth0/100.rp_filter */
  key: string
  value: string
  line: number
}

const PROC_SYS = '/proc/sys/'

export function parseSysctls(text: string): ParseResult<SysctlEntry[]> {
  const problems: ParseProblem[] = []
  const value: SysctlEntry[] = []
  if (typeof text !== 'string') return {value, problems: [problem(0, 'sysctl: input is not text')]}
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') return
    // Interface names cannot contain ':' (dev_valid_name), so the first colon ends the path.
    const colon = line.indexOf(':')
    const path = colon < 0 ? '' : line.slice(0, colon)
    const key = colon < 0 ? undefined : sysctlKey(path)
    if (key === undefined) {
      problems.push(problem(lineNo, 'sysctl: expected "/proc/sys/…:value"', line))
      return
    }
    value.push({path, key, value: line.slice(colon + 1).trim(), line: lineNo})
  })
  return {value, problems}
}

/** /proc/sys path → dotted name, as `sysctl` prints it; undefined for anything outside /proc/sys. */
export function sysctlKey(path: string): string | undefined {
  if (!path.startsWith(PROC_SYS)) return undefined
  const parts = path.slice(PROC_SYS.length).split('/')
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return undefined
  return parts.map((p) => p.replaceAll('.', '/')).join('.')
}

/** The value of a dotted key (the last one read wins, as a later read is newer), or undefined. */
export function sysctlValue(entries: readonly SysctlEntry[], key: string): string | undefined {
  let found: string | undefined
  for (const e of entries) if (e.key === key) found = e.value
  return found
}

/**
 * rp_filter per interface name (including "all" and "default"), as numbers. The kernel uses
 * max(conf.all.rp_filter, conf.IFACE.rp_filter); that policy is for the caller, not the parser.
 */
export function rpFilterByInterface(entries: readonly SysctlEntry[]): Map<string, number> {
  const out = new Map<string, number>()
  const re = /^net\.ipv4\.conf\.([^.]+)\.rp_filter$/
  for (const e of entries) {
    const m = re.exec(e.key)
    const n = Number(e.value)
    if (m?.[1] !== undefined && /^\d+$/.test(e.value) && Number.isSafeInteger(n)) out.set(m[1].replaceAll('/', '.'), n)
  }
  return out
}

/**
 * proxy_arp per interface name ("all" and "default" included) from `grep -r -H
 * --include=proxy_arp . /proc/sys/net/ipv4/conf`. The kernel answers ARP by proxy on an interface
 * when conf.all.proxy_arp or conf.IFACE.proxy_arp is set; that policy is for the caller. A line that
 * is not an interface's proxy_arp with a number is a problem, and is left out of the map.
 */
export function parseProxyArp(text: string): ParseResult<Map<string, number>> {
  const read = parseSysctls(text)
  const problems = [...read.problems]
  const value = new Map<string, number>()
  const re = /^net\.ipv4\.conf\.([^.]+)\.proxy_arp$/
  for (const e of read.value) {
    const m = re.exec(e.key)
    const n = Number(e.value)
    if (m?.[1] === undefined || !/^\d+$/.test(e.value) || !Number.isSafeInteger(n)) {
      problems.push(problem(e.line, 'proxy_arp: expected "/proc/sys/net/ipv4/conf/IFACE/proxy_arp:NUMBER"', `${e.path}:${e.value}`))
      continue
    }
    value.set(m[1].replaceAll('/', '.'), n)
  }
  return {value, problems}
}
