/**
 * What a CNI leaves on a node about each pod it plugged in, read as `grep -r -H . DIR` prints it:
 * - host-local IPAM: /var/lib/cni/networks/NETWORK/IP holds the container id, then the
 *   interface name inside the pod (older plugins end lines with \r\n);
 * - libcni's result cache: /var/lib/cni/results/NETWORK-CONTAINERID-IFNAME holds one JSON document
 *   (cniCacheV1, or the bare result from older libcni) naming the interfaces it created — the one
 *   without a sandbox is the pod's host-side veth — and the addresses it gave.
 * These name the veth behind a pod's IP when the node's routes and neighbours do not.
 */
import {problem, type ParseProblem, type ParseResult} from './result.js'

export interface CniIpamRecord {
  path: string
  network: string
  ip: string
  containerId?: string
  ifname?: string
}

export interface CniResultRecord {
  path: string
  network?: string
  containerId?: string
  /** The interface in the pod ("eth0"). */
  ifName?: string
  /** Interfaces without a sandbox: the host side (a veth) — usually one. */
  hostInterfaces: string[]
  /** IPv4/IPv6 addresses without prefix length. */
  ips: string[]
}

const IPAM_LINE = /^(\/\S*?\/networks\/([^/]+)\/(\d{1,3}(?:\.\d{1,3}){3})):(.*)$/
const RESULT_LINE = /^(\/[^:]*\/results\/[^/:]+):(.*)$/

function lines(text: string): {line: string; n: number}[] {
  return text.split('\n').map((raw, i) => ({line: raw.endsWith('\r') ? raw.slice(0, -1) : raw, n: i + 1})).filter((l) => l.line !== '')
}

export function parseCniIpam(text: string): ParseResult<CniIpamRecord[]> {
  const problems: ParseProblem[] = []
  if (typeof text !== 'string') return {value: [], problems: [problem(0, 'cni ipam: input is not text')]}
  const byPath = new Map<string, CniIpamRecord>()
  for (const {line, n} of lines(text)) {
    const m = IPAM_LINE.exec(line)
    if (!m) {
      // last_reserved_ip.0, lock and IPv6 reservations are not per-pod IPv4 records.
      if (!/\/networks\/[^/]+\/(last_reserved_ip\.\d+|lock|[0-9a-f:]+)(:|$)/i.test(line)) problems.push(problem(n, 'cni ipam: expected "/var/lib/cni/networks/NET/IP:value"', line))
      continue
    }
    const [, path = '', network = '', ip = '', rest = ''] = m
    const value = rest.trim()
    let rec = byPath.get(path)
    if (!rec) byPath.set(path, (rec = {path, network, ip}))
    if (rec.containerId === undefined) rec.containerId = value
    else if (rec.ifname === undefined) rec.ifname = value
  }
  return {value: [...byPath.values()], problems}
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

export function parseCniResults(text: string): ParseResult<CniResultRecord[]> {
  const problems: ParseProblem[] = []
  const value: CniResultRecord[] = []
  if (typeof text !== 'string') return {value, problems: [problem(0, 'cni results: input is not text')]}
  for (const {line, n} of lines(text)) {
    const m = RESULT_LINE.exec(line)
    let doc: Json | undefined
    try {
      doc = m ? obj(JSON.parse(m[2] ?? '')) : undefined
    } catch {
      doc = undefined
    }
    if (!m || !doc) {
      problems.push(problem(n, 'cni results: expected "/var/lib/cni/results/FILE:{json}"', line))
      continue
    }
    // cniCacheV1 wraps the result; older caches are the result itself.
    const result = obj(doc.result) ?? doc
    const interfaces = Array.isArray(result.interfaces) ? result.interfaces.map(obj) : []
    const ips = Array.isArray(result.ips) ? result.ips.map((x) => str(obj(x)?.address)?.split('/')[0]).filter((x): x is string => !!x) : []
    const network = str(doc.networkName)
    const containerId = str(doc.containerId)
    const ifName = str(doc.ifName)
    value.push({
      path: m[1] ?? '',
      ...(network ? {network} : {}),
      ...(containerId ? {containerId} : {}),
      ...(ifName ? {ifName} : {}),
      hostInterfaces: interfaces.filter((i) => i && !str(i.sandbox)).map((i) => str(i?.name)).filter((x): x is string => !!x),
      ips,
    })
  }
  return {value, problems}
}
