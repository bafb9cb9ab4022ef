/**
 * The real packet from inside a pod, with whatever the pod has: fixed argv templates for nc, curl,
 * wget, bash's /dev/tcp and /dev/udp, and ping, filled only with a validated IPv4 or IPv6 address
 * (nc -6, ping -6 and a bracketed URL for IPv6), a port and a timeout — never a shell string built from input. bash needs `bash -c`, so its script is a
 * constant and the address, port and timeout reach it as positional parameters ($1 $2 $3), which
 * bash never re-parses. Also here, pure: reading each tool's words back into the lab prober's
 * outcomes (delivered / refused / timeout / error), and telling "this tool is not here" (exit 126
 * or 127, containerd's "executable file not found", a usage error) from an answer.
 */
import {isIPv4, isIPv6} from 'node:net'
import type {TraceProtocol} from './types.js'
import {pingFailureReason} from '../parse/ping.js'

export type ProbeTool = 'nc' | 'curl' | 'wget' | 'bash' | 'ping'
export type ExecOutcome = 'delivered' | 'refused' | 'timeout' | 'error'

/** Seconds each tool waits for a connection or an answer. */
export const PROBE_WAIT_S = 2
/** What stdin carries for UDP: the datagram a tool sends (nc -u reads it from stdin). */
export const UDP_PAYLOAD = 'knet-probe\n'

/** The order tools are tried in, per protocol. ping only sends ICMP, so it is not a TCP/UDP probe. */
export const TOOL_ORDER: Readonly<Record<TraceProtocol, readonly ProbeTool[]>> = {
  tcp: ['nc', 'curl', 'wget', 'bash'],
  udp: ['nc', 'bash'],
  icmp: ['ping'],
}

// Fixed scripts: "$1" "$2" "$3" are expanded once, as words, never evaluated.
export const BASH_TCP_SCRIPT = 'exec 3<>"/dev/tcp/$1/$2" || exit 1; echo "knet-probe: connected" >&2; IFS= read -r -t "$3" line <&3; printf "%s\\n" "$line"'
export const BASH_UDP_SCRIPT = 'exec 3<>"/dev/udp/$1/$2" || exit 1; printf "knet-probe\\n" >&3; IFS= read -r -t "$3" line <&3; rc=$?; printf "%s\\n" "$line"; exit $rc'
/** bash -c's $0: names the script in bash's own error messages. */
export const BASH_ARG0 = 'knet-probe'

export interface ProbeTarget {
  protocol: TraceProtocol
  ip: string
  /** tcp/udp only. */
  port: number | null
  /** ICMP payload bytes (ping -s, sent with DF set); undefined: ping's default. */
  size?: number
  /** tcp/udp: send from this port (trace --source-port: one conntrack flow). Only nc and curl can. */
  sourcePort?: number
}

/** The target, checked: an IPv4 address in dotted form or an IPv6 one without a zone, a port 1–65535 for tcp/udp, a size 0–65000. */
export function validTarget(t: ProbeTarget): ProbeTarget {
  // A zone ("fe80::1%eth0") names an interface of the pod, not a place in the cluster: refused with anything else.
  if (!isIPv4(t.ip) && !(isIPv6(t.ip) && !t.ip.includes('%'))) throw new Error(`not an IPv4 or IPv6 address: ${JSON.stringify(t.ip)}`)
  if (t.protocol !== 'icmp' && (t.port === null || !Number.isInteger(t.port) || t.port < 1 || t.port > 65_535)) throw new Error(`not a port: ${String(t.port)}`)
  if (t.size !== undefined && (!Number.isInteger(t.size) || t.size < 0 || t.size > 65_000)) throw new Error(`not a size: ${t.size}`)
  if (t.sourcePort !== undefined && (!Number.isInteger(t.sourcePort) || t.sourcePort < 1 || t.sourcePort > 65_535)) throw new Error(`not a source port: ${t.sourcePort}`)
  return t
}

/** The argv for one tool, or undefined when the tool cannot send this protocol. */
export function probeArgv(tool: ProbeTool, target: ProbeTarget): string[] | undefined {
  const t = validTarget(target)
  const wait = String(PROBE_WAIT_S)
  const port = String(t.port)
  const pinned = t.sourcePort !== undefined
  const v6 = isIPv6(t.ip)
  // An IPv6 literal in a URL is bracketed; curl would read the brackets as a glob without --globoff.
  const host = v6 ? `[${t.ip}]` : t.ip
  const six = v6 ? ['-6'] : []
  switch (tool) {
    case 'nc': {
      if (t.protocol === 'icmp') return undefined
      const from = pinned ? ['-p', String(t.sourcePort)] : []
      // -v: nc says "succeeded"/"refused"/"timed out" on stderr (OpenBSD, busybox, ncat alike); UDP is judged by the reply alone.
      return t.protocol === 'udp' ? ['nc', ...six, '-u', ...from, '-w', wait, t.ip, port] : ['nc', ...six, '-v', ...from, '-w', wait, t.ip, port]
    }
    case 'curl':
      // telnet:// opens a bare TCP connection (any server, not only HTTP); -v names the socket error.
      if (t.protocol !== 'tcp') return undefined
      return ['curl', '-sSv', ...(v6 ? ['--globoff'] : []), ...(pinned ? ['--local-port', String(t.sourcePort)] : []), '--connect-timeout', wait, '--max-time', String(PROBE_WAIT_S + 1), `telnet://${host}:${port}`]
    case 'wget':
      return t.protocol === 'tcp' && !pinned ? ['wget', '-t', '1', '-T', wait, '-O', '/dev/null', `http://${host}:${port}/`] : undefined
    case 'bash':
      if (t.protocol === 'icmp' || pinned) return undefined
      return ['bash', '-c', t.protocol === 'tcp' ? BASH_TCP_SCRIPT : BASH_UDP_SCRIPT, BASH_ARG0, t.ip, port, wait]
    case 'ping':
      if (t.protocol !== 'icmp') return undefined
      return ['ping', ...six, '-c', '1', '-W', wait, ...(t.size === undefined ? [] : ['-s', String(t.size), '-M', 'do']), t.ip]
  }
}

/** Whether argv is one of the templates above (the lab's stand-in server runs only these in workload pods). */
export function isProbeArgv(argv: readonly string[]): boolean {
  const [tool] = argv
  if (!tool || !(['nc', 'curl', 'wget', 'bash', 'ping'] as const).includes(tool as ProbeTool)) return false
  const target = targetOf(tool as ProbeTool, argv)
  if (!target) return false
  try {
    const expected = probeArgv(tool as ProbeTool, target)
    return expected !== undefined && expected.length === argv.length && expected.every((a, i) => a === argv[i])
  } catch {
    return false
  }
}

function targetOf(tool: ProbeTool, argv: readonly string[]): ProbeTarget | undefined {
  const n = (s: string | undefined): number => (s !== undefined && /^\d{1,5}$/.test(s) ? Number(s) : Number.NaN)
  switch (tool) {
    case 'nc': {
      const from = argv.indexOf('-p')
      return {protocol: argv.includes('-u') ? 'udp' : 'tcp', ip: argv.at(-2) ?? '', port: n(argv.at(-1)), ...(from > 0 ? {sourcePort: n(argv[from + 1])} : {})}
    }
    case 'curl': {
      const m = /^telnet:\/\/([\d.]+|\[[\da-f:.]+\]):(\d+)$/i.exec(argv.at(-1) ?? '')
      const from = argv.indexOf('--local-port')
      return m ? {protocol: 'tcp', ip: unbracket(m[1]), port: n(m[2]), ...(from > 0 ? {sourcePort: n(argv[from + 1])} : {})} : undefined
    }
    case 'wget': {
      const m = /^http:\/\/([\d.]+|\[[\da-f:.]+\]):(\d+)\/$/i.exec(argv.at(-1) ?? '')
      return m ? {protocol: 'tcp', ip: unbracket(m[1]), port: n(m[2])} : undefined
    }
    case 'bash':
      return {protocol: argv[2] === BASH_UDP_SCRIPT ? 'udp' : 'tcp', ip: argv[4] ?? '', port: n(argv[5])}
    case 'ping': {
      const size = argv.indexOf('-s')
      return {protocol: 'icmp', ip: argv.at(-1) ?? '', port: null, ...(size > 0 ? {size: n(argv[size + 1])} : {})}
    }
  }
}

/** A URL's host back to the address: "[fd00::1]" → "fd00::1". */
function unbracket(host: string | undefined): string {
  return host?.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : (host ?? '')
}

/** What one exec of a tool gave back (pods.ts ExecOutput, reduced). */
export interface ToolRun {
  stdout: string
  stderr: string
  exitCode: number | null
  /** The runtime could not run it (the exec Status message). */
  error?: string
  timedOut: boolean
}

export type ToolVerdict = {usable: false; why: string} | {usable: true; outcome: ExecOutcome; answer?: string; detail?: string}

const ABSENT = /executable file not found|no such file or directory|: not found|command not found/i
const UNUSABLE = /usage:|invalid option|unrecognized option|illegal option|unknown option|not supported or disabled|protocol .* not supported|operation not permitted|permission denied/i
const CONNECTED = /succeeded!|\bConnected to\b|\.\.\. connected\.|knet-probe: connected| open$/m
const REFUSED = /connection refused/i
const TIMED_OUT = /timed out|time-?out|timeout was reached/i
const UNREACHABLE = /(no route to host|host is unreachable|network is unreachable|destination host unreachable|destination net unreachable)/i

const firstLine = (s: string): string => s.split('\n').map((l) => l.trim()).find(Boolean) ?? ''

/** One tool's run read as an outcome, or as "this tool is not usable here, try the next". */
export function readToolRun(tool: ProbeTool, protocol: TraceProtocol, run: ToolRun): ToolVerdict {
  const text = `${run.stderr}\n${run.error ?? ''}`
  const answer = firstLine(run.stdout) || undefined
  if (run.error !== undefined && ABSENT.test(run.error)) return {usable: false, why: `${tool}: not in the container`}
  if (run.exitCode === 127 || run.exitCode === 126) return {usable: false, why: `${tool}: not in the container (exit ${run.exitCode})`}
  if (run.error !== undefined && run.exitCode === null && !run.timedOut) return {usable: false, why: `${tool}: ${firstLine(run.error)}`}
  if (tool === 'ping') {
    if (run.exitCode === 0) return {usable: true, outcome: 'delivered'}
    const reason = pingFailureReason(text)
    if (reason) return {usable: true, outcome: 'error', detail: reason}
    if (UNUSABLE.test(text)) return {usable: false, why: `ping: ${firstLine(text)}`}
    if (run.exitCode === 1 || run.timedOut) return {usable: true, outcome: 'timeout'}
    return {usable: true, outcome: 'error', detail: firstLine(text) || `ping exit ${String(run.exitCode)}`}
  }
  if (protocol === 'udp') {
    // A UDP "connection" always succeeds: only a reply, or ICMP port unreachable, says anything.
    if (answer) return {usable: true, outcome: 'delivered', answer}
    if (REFUSED.test(text)) return {usable: true, outcome: 'refused', detail: 'ICMP port unreachable'}
    if (UNREACHABLE.test(text)) return {usable: true, outcome: 'error', detail: (UNREACHABLE.exec(text)?.[1] ?? '').toLowerCase()}
    if (UNUSABLE.test(text) && run.exitCode !== 0) return {usable: false, why: `${tool}: ${firstLine(text)}`}
    return {usable: true, outcome: 'timeout', detail: `no reply within ${PROBE_WAIT_S} s`}
  }
  if (answer || CONNECTED.test(text) || (run.exitCode === 0 && !run.timedOut)) return {usable: true, outcome: 'delivered', ...(answer ? {answer} : {})}
  if (REFUSED.test(text)) return {usable: true, outcome: 'refused', detail: 'connection refused'}
  if (UNREACHABLE.test(text)) return {usable: true, outcome: 'error', detail: (UNREACHABLE.exec(text)?.[1] ?? '').toLowerCase()}
  if (TIMED_OUT.test(text) || run.timedOut) return {usable: true, outcome: 'timeout', detail: `no connection within ${PROBE_WAIT_S} s`}
  if (UNUSABLE.test(text)) return {usable: false, why: `${tool}: ${firstLine(text)}`}
  return {usable: true, outcome: 'error', detail: firstLine(text) || `${tool} exit ${String(run.exitCode)}`}
}
