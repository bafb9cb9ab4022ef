/**
 * Parser for `nft -j list ruleset`. Rule expressions are kept as nft's own JSON (a later evaluator
 * reads them directly); only what every consumer needs is derived: jumps/gotos, the final verdict,
 * the named sets and maps a rule looks up, and whether the rule is an iptables-nft compat rule whose
 * matches are opaque `xt` blobs in JSON (those must be read from iptables-save instead).
 */
import {problem, type ParseProblem, type ParseResult} from './result.js'

export interface NftMetainfo {
  version: string
  releaseName: string
  jsonSchemaVersion: number
}

export interface NftTable {
  family: string
  name: string
  handle: number
  comment: string | null
  /** Set when the table was not listed because iptables-save holds its rules (parse/nft-tables.ts). */
  owner?: 'iptables-nft'
  /** Set when the table's own listing failed or was never made: why its rules are not known (only its chains are). */
  unread?: string
}

export interface NftChain {
  family: string
  table: string
  name: string
  handle: number
  /** Base chains only: filter / nat / route. */
  type: string | null
  hook: string | null
  prio: number | null
  policy: string | null
  comment: string | null
}

export interface NftJump {
  verb: 'jump' | 'goto'
  target: string
}

export interface NftRule {
  family: string
  table: string
  chain: string
  handle: number
  comment: string | null
  /** nft's statement list, untouched. */
  expr: unknown[]
  /** Chains this rule can continue in, from jump/goto statements and anonymous or named verdict maps. */
  jumps: NftJump[]
  /** Named sets and maps referenced as "@name". */
  setRefs: string[]
  /** The last statement's verdict when it is one: accept, drop, return, continue, jump, goto, reject. */
  verdict: string | null
  /** True for rules written by iptables-nft: their matches are `xt` blobs nft cannot show. */
  hasXt: boolean
}

export interface NftElement {
  /** The key as nft prints it (string, number, {concat: [...]}, {prefix}, {range}…). */
  key: unknown
  /** Readable key: concatenations joined with " . ", as in nft's text syntax. */
  keyText: string
  /** The mapped value for maps; null for sets. */
  value: unknown
  /** For verdict maps: where the element sends the packet. */
  verdict: NftJump | {verb: string} | null
  comment: string | null
}

export interface NftSet {
  kind: 'set' | 'map'
  family: string
  table: string
  name: string
  handle: number
  /** Key type; concatenations as a list ("ipv4_addr", "inet_proto", "inet_service"). */
  type: string[]
  /** Map data type ("verdict", "ipv4_addr" …); null for sets. */
  map: string | null
  flags: string[]
  comment: string | null
  elements: NftElement[]
}

export interface NftRuleset {
  metainfo: NftMetainfo | null
  tables: NftTable[]
  chains: NftChain[]
  rules: NftRule[]
  /** Sets and maps, in output order. */
  sets: NftSet[]
}

type Obj = Record<string, unknown>

const IGNORED = new Set(['flowtable', 'counter', 'quota', 'ct helper', 'ct timeout', 'ct expectation', 'limit', 'secmark', 'synproxy', 'element'])
const VERDICTS = new Set(['accept', 'drop', 'return', 'continue', 'reject', 'queue'])

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

function emptyRuleset(): NftRuleset {
  return {metainfo: null, tables: [], chains: [], rules: [], sets: []}
}

/** The 1-based line a JSON.parse error points at, when the engine says where. */
function jsonErrorLine(text: string, message: string): number {
  const lineCol = /line ([0-9]+) column/.exec(message)
  if (lineCol) return Number(lineCol[1])
  const pos = /position ([0-9]+)/.exec(message)
  if (!pos) return 0
  let line = 1
  const end = Math.min(Number(pos[1]), text.length)
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

function verdictOf(v: unknown): NftJump | {verb: string} | null {
  if (!isObj(v)) return null
  for (const verb of ['jump', 'goto'] as const) {
    const t = v[verb]
    if (isObj(t) && typeof t.target === 'string') return {verb, target: t.target}
  }
  for (const k of Object.keys(v)) if (VERDICTS.has(k)) return {verb: k}
  return null
}

/** Walks an expression tree once, collecting jumps and @set references (depth-limited against hostile input). */
function scan(node: unknown, jumps: NftJump[], refs: string[], depth: number): boolean {
  if (depth > 64) return false
  let xt = false
  if (typeof node === 'string') {
    if (node.length > 1 && node.startsWith('@')) refs.push(node.slice(1))
    return false
  }
  if (Array.isArray(node)) {
    for (const n of node) xt = scan(n, jumps, refs, depth + 1) || xt
    return xt
  }
  if (!isObj(node)) return false
  const v = verdictOf(node)
  if (v && 'target' in v) jumps.push(v)
  for (const [k, child] of Object.entries(node)) {
    if (k === 'xt') xt = true
    xt = scan(child, jumps, refs, depth + 1) || xt
  }
  return xt
}

function keyText(key: unknown, depth = 0): string {
  if (typeof key === 'string' || typeof key === 'number') return String(key)
  if (depth > 16) return '…'
  if (isObj(key)) {
    if (Array.isArray(key.concat)) return key.concat.map((k) => keyText(k, depth + 1)).join(' . ')
    if (isObj(key.prefix)) return `${keyText(key.prefix.addr, depth + 1)}/${keyText(key.prefix.len, depth + 1)}`
    if (Array.isArray(key.range)) return key.range.map((k) => keyText(k, depth + 1)).join('-')
    if (isObj(key.elem)) return keyText(key.elem.val, depth + 1)
  }
  try {
    return JSON.stringify(key) ?? ''
  } catch {
    return ''
  }
}

function readElement(raw: unknown, isMap: boolean): NftElement {
  let key: unknown = raw
  let value: unknown = null
  if (isMap && Array.isArray(raw) && raw.length === 2) {
    key = raw[0]
    value = raw[1]
  }
  // Elements with a comment (or timeout) are wrapped: {"elem": {"val": KEY, "comment": "…"}}.
  let comment: string | null = null
  if (isObj(key) && isObj(key.elem)) {
    comment = str(key.elem.comment)
    key = key.elem.val
  }
  return {key, keyText: keyText(key), value, verdict: isMap ? verdictOf(value) : null, comment}
}

function readSet(kind: 'set' | 'map', o: Obj): NftSet | string {
  const family = str(o.family)
  const table = str(o.table)
  const name = str(o.name)
  if (family === null || table === null || name === null) return `${kind} without family/table/name`
  const type = Array.isArray(o.type) ? o.type.filter((t): t is string => typeof t === 'string') : str(o.type) !== null ? [o.type as string] : []
  const flags = Array.isArray(o.flags) ? o.flags.filter((t): t is string => typeof t === 'string') : str(o.flags) !== null ? [o.flags as string] : []
  const elem = Array.isArray(o.elem) ? o.elem : []
  const mapType = kind === 'map' ? (Array.isArray(o.map) ? o.map.join(' . ') : str(o.map)) : null
  return {
    kind, family, table, name, handle: num(o.handle) ?? -1, type, map: mapType, flags,
    comment: str(o.comment), elements: elem.map((e) => readElement(e, kind === 'map')),
  }
}

function readRule(o: Obj): NftRule | string {
  const family = str(o.family)
  const table = str(o.table)
  const chain = str(o.chain)
  if (family === null || table === null || chain === null) return 'rule without family/table/chain'
  const expr = Array.isArray(o.expr) ? o.expr : []
  const jumps: NftJump[] = []
  const setRefs: string[] = []
  const hasXt = scan(expr, jumps, setRefs, 0)
  const last = expr[expr.length - 1]
  const v = verdictOf(last)
  return {
    family, table, chain, handle: num(o.handle) ?? -1, comment: str(o.comment), expr, jumps,
    setRefs, verdict: v ? v.verb : null, hasXt,
  }
}

export function parseNftJson(text: string): ParseResult<NftRuleset> {
  const problems: ParseProblem[] = []
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return {value: emptyRuleset(), problems: [problem(jsonErrorLine(String(text), message), `invalid JSON: ${message}`)]}
  }
  const entries = isObj(doc) ? doc.nftables : undefined
  if (!Array.isArray(entries)) {
    return {value: emptyRuleset(), problems: [problem(0, 'not nft JSON: no top-level "nftables" array')]}
  }
  const out = emptyRuleset()
  entries.forEach((entry, index) => {
    if (!isObj(entry)) {
      problems.push(problem(0, `entry ${index} is not an object`))
      return
    }
    for (const [kind, body] of Object.entries(entry)) {
      if (!isObj(body)) {
        problems.push(problem(0, `entry ${index}: "${kind}" is not an object`))
        continue
      }
      if (kind === 'metainfo') {
        out.metainfo = {version: str(body.version) ?? '', releaseName: str(body.release_name) ?? '', jsonSchemaVersion: num(body.json_schema_version) ?? 0}
      } else if (kind === 'table') {
        const family = str(body.family)
        const name = str(body.name)
        if (family === null || name === null) problems.push(problem(0, `entry ${index}: table without family/name`))
        else out.tables.push({family, name, handle: num(body.handle) ?? -1, comment: str(body.comment)})
      } else if (kind === 'chain') {
        const family = str(body.family)
        const table = str(body.table)
        const name = str(body.name)
        if (family === null || table === null || name === null) problems.push(problem(0, `entry ${index}: chain without family/table/name`))
        else {
          out.chains.push({
            family, table, name, handle: num(body.handle) ?? -1, type: str(body.type), hook: str(body.hook),
            prio: num(body.prio), policy: str(body.policy), comment: str(body.comment),
          })
        }
      } else if (kind === 'rule') {
        const r = readRule(body)
        if (typeof r === 'string') problems.push(problem(0, `entry ${index}: ${r}`))
        else out.rules.push(r)
      } else if (kind === 'set' || kind === 'map') {
        const s = readSet(kind, body)
        if (typeof s === 'string') problems.push(problem(0, `entry ${index}: ${s}`))
        else out.sets.push(s)
      } else if (!IGNORED.has(kind)) {
        problems.push(problem(0, `entry ${index}: unknown object "${kind}"`))
      }
    }
  })
  return {value: out, problems}
}
