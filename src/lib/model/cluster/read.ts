/**
 * Defensive readers for raw API objects. Snapshots hold whatever a server or a hand-edited file
 * contained, so the model reads fields through these and records a problem instead of throwing.
 */
import {parseIp} from '../../net/cidr.js'

export type Raw = Record<string, unknown>

/**
 * An address as evidence prints it: IPv6 in RFC 5952 form ("fd00::a", not "fd00:0::A"), so the API's
 * addresses compare equal to iproute2's, iptables-save's and conntrack's. Anything else is kept.
 */
export function ipText(v: string): string {
  return v.includes(':') ? (parseIp(v)?.text ?? v) : v
}

export function rec(v: unknown): Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {}
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

export function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined
}

export function strings(v: unknown): string[] {
  return defined(arr(v).map(str))
}

/**
 * The items that are not undefined, in an array of exactly their number. Model arrays are built
 * with map (exact length) and pass through here rather than being grown by push or filter: an
 * array grown from empty keeps room for 17 items (~130 bytes more than one item needs), and a
 * 5,000-node model has three such small arrays per pod and endpoint, ~450,000 of them.
 */
export function defined<T>(xs: (T | undefined)[]): T[] {
  for (const x of xs) if (x === undefined) return xs.filter((y): y is T => y !== undefined).slice()
  return xs as T[]
}

export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  const r = rec(v)
  // Object.keys, not entries: no [key, value] array per label of every object read.
  for (const k of Object.keys(r)) {
    const val = r[k]
    if (typeof val === 'string') out[k] = val
  }
  return out
}

export interface ObjectMeta {
  name: string
  namespace: string
  labels: Record<string, string>
}

/** name and namespace, or undefined when the object has no name (then it is a problem, not a model item). */
export function meta(v: unknown): ObjectMeta | undefined {
  const m = rec(rec(v).metadata)
  const name = str(m.name)
  if (!name) return undefined
  return {name, namespace: str(m.namespace) ?? '', labels: stringMap(m.labels)}
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP'

export function protocol(v: unknown): Protocol {
  return v === 'UDP' || v === 'SCTP' ? v : 'TCP'
}

/** An IntOrString port: numbers stay numbers, numeric strings ("8080") become numbers, names stay names. */
export function intOrString(v: unknown): number | string | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string' && v !== '') return /^\d+$/.test(v) ? Number(v) : v
  return undefined
}

/**
 * Each raw object through `convert` (undefined: not a model item), sorted by namespace/name.
 * With `release`, each raw object is dropped from `raw` as soon as it is converted and `raw` is
 * left empty, so the raw objects and their model are never both held in full (the raw objects of
 * a 5,000-node snapshot take ~1.6× the file).
 */
export function buildEach<T extends {namespace: string; name: string}>(raw: unknown[], convert: (obj: unknown, index: number) => T | undefined, release = false): T[] {
  const out: T[] = []
  for (let i = 0; i < raw.length; i++) {
    const item = convert(raw[i], i)
    if (release) raw[i] = undefined
    if (item) out.push(item)
  }
  if (release) raw.length = 0
  return out.sort(byKey)
}

/** namespace, then name: the order a real API server lists in, whatever order a file had. */
export function byKey<T extends {namespace: string; name: string}>(a: T, b: T): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

export interface ModelProblem {
  /** Where: "pods[12]", "service shop/web". */
  subject: string
  message: string
}
