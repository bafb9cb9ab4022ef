/**
 * nft's JSON rule statements back in nft's own syntax, for evidence: a finding or a trace hop quotes
 * `ip daddr . meta l4proto . th dport vmap @service-ips` as `nft list ruleset` shows it, not JSON.
 * Anything not recognised is printed as compact JSON, so nothing is ever hidden.
 */
import type {NftRule} from '../../parse/nft.js'

type Obj = Record<string, unknown>

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function json(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

const hex = (n: unknown): string => (typeof n === 'number' ? `0x${n.toString(16).padStart(8, '0')}` : exprText(n))

function verdictText(v: Obj): string | undefined {
  for (const k of ['jump', 'goto'] as const) {
    const t = v[k]
    if (isObj(t) && typeof t.target === 'string') return `${k} ${t.target}`
  }
  for (const k of ['accept', 'drop', 'return', 'continue', 'queue']) if (k in v) return k
  return undefined
}

/** Does this expression print marks in hex (meta mark, ct mark)? */
function isMark(e: unknown): boolean {
  if (!isObj(e)) return false
  const m = (e.meta ?? e.ct) as Obj | undefined
  if (isObj(m) && m.key === 'mark') return true
  for (const op of ['&', '|', '^']) if (Array.isArray(e[op])) return isMark((e[op] as unknown[])[0])
  return false
}

/** Meta keys nft prints without the `meta` keyword. */
const UNQUALIFIED_META = new Set(['mark', 'iif', 'oif', 'iifname', 'oifname', 'iiftype', 'oiftype', 'skuid', 'skgid', 'rtclassid', 'cpu', 'iifgroup', 'oifgroup', 'cgroup'])

export function exprText(e: unknown, markCtx = false): string {
  if (typeof e === 'number') return markCtx ? hex(e) : String(e)
  if (typeof e === 'string') return e
  if (Array.isArray(e)) return `{ ${e.map((x) => exprText(x, markCtx)).join(', ')} }`
  if (!isObj(e)) return json(e)
  if (isObj(e.payload)) {
    const p = e.payload
    if (typeof p.protocol === 'string') return `${p.protocol} ${String(p.field)}`
    return `@${String(p.base)},${String(p.offset)},${String(p.len)}`
  }
  if (isObj(e.meta)) {
    const k = String(e.meta.key)
    return UNQUALIFIED_META.has(k) ? k : `meta ${k}`
  }
  if (isObj(e.ct)) return `ct ${e.ct.dir ? `${String(e.ct.dir)} ` : ''}${String(e.ct.key)}`
  if (isObj(e.fib)) {
    const flags = Array.isArray(e.fib.flags) ? e.fib.flags : [e.fib.flags]
    return `fib ${flags.map(String).join(' . ')} ${String(e.fib.result)}`
  }
  if (isObj(e.numgen)) return `numgen ${String(e.numgen.mode)} mod ${String(e.numgen.mod)}${e.numgen.offset ? ` offset ${String(e.numgen.offset)}` : ''}`
  if (isObj(e.jhash)) return `jhash ${exprText(e.jhash.expr)} mod ${String(e.jhash.mod)}`
  if (isObj(e.symhash)) return `symhash mod ${String(e.symhash.mod)}`
  if (Array.isArray(e.concat)) return e.concat.map((x) => exprText(x)).join(' . ')
  if (isObj(e.prefix)) return `${exprText(e.prefix.addr)}/${exprText(e.prefix.len)}`
  if (Array.isArray(e.range)) return e.range.map((x) => exprText(x)).join('-')
  if (Array.isArray(e.set)) return `{ ${e.set.map((x) => (Array.isArray(x) && x.length === 2 ? `${exprText(x[0])} : ${exprText(x[1])}` : exprText(x))).join(', ')} }`
  if (isObj(e.map)) return `${exprText(e.map.key)} map ${exprText(e.map.data)}`
  if (isObj(e.elem)) return exprText(e.elem.val)
  for (const op of ['&', '|', '^', '<<', '>>']) {
    const args = e[op]
    if (Array.isArray(args) && args.length === 2) {
      const m = markCtx || isMark(args[0])
      const word = op === '&' ? 'and' : op === '|' ? 'or' : op === '^' ? 'xor' : op
      return `${exprText(args[0], m)} ${word} ${exprText(args[1], m)}`
    }
  }
  const v = verdictText(e)
  if (v) return v
  return json(e)
}

function natText(kind: string, s: Obj): string {
  const parts = [kind]
  if (typeof s.family === 'string' && isObj(s.addr) && (isObj(s.addr.map) || Array.isArray(s.addr.concat))) parts.push(`${s.family} addr . port`)
  if (s.addr !== undefined || s.port !== undefined) parts.push('to')
  let target = s.addr === undefined ? '' : exprText(s.addr)
  if (s.port !== undefined) target += `:${exprText(s.port)}`
  if (target) parts.push(target)
  const flags = Array.isArray(s.flags) ? s.flags : typeof s.flags === 'string' ? [s.flags] : []
  if (flags.length) parts.push(flags.map(String).join(','))
  return parts.join(' ')
}

const OP_WORDS: Record<string, string> = {'==': '', 'in': ''}

export function statementText(st: unknown): string {
  if (!isObj(st)) return json(st)
  const [kind] = Object.keys(st)
  const body = kind === undefined ? undefined : st[kind]
  switch (kind) {
    case 'match': {
      const m = body as Obj
      const mark = isMark(m.left)
      // After a bitwise expression nft keeps the `==` ("mark and 0xff == 0x2"); elsewhere it is implied.
      const binary = isObj(m.left) && ['&', '|', '^'].some((k) => k in (m.left as Obj))
      const op = typeof m.op === 'string' ? (binary && m.op === '==' ? '==' : (OP_WORDS[m.op] ?? m.op)) : ''
      return [exprText(m.left), op, exprText(m.right, mark)].filter((x) => x !== '').join(' ')
    }
    case 'counter': return 'counter'
    case 'accept': case 'drop': case 'return': case 'continue': return kind
    case 'jump': case 'goto': return `${kind} ${String((body as Obj).target)}`
    case 'reject': {
      const b = isObj(body) ? body : {}
      // nft prints the default (icmp port-unreachable) as a bare `reject`.
      if (b.type === undefined || (b.type === 'icmp' && b.expr === 'port-unreachable') || (b.type === 'icmpx' && b.expr === 'port-unreachable')) return 'reject'
      return `reject with ${String(b.type)}${b.expr ? ` ${exprText(b.expr)}` : ''}`
    }
    case 'vmap': return `${exprText((body as Obj).key)} vmap ${exprText((body as Obj).data)}`
    case 'mangle': {
      const b = body as Obj
      return `${exprText(b.key)} set ${exprText(b.value, isMark(b.key))}`
    }
    case 'dnat': case 'snat': return natText(kind, isObj(body) ? body : {})
    case 'masquerade': case 'redirect': return natText(kind, isObj(body) ? body : {})
    case 'notrack': return 'notrack'
    case 'log': return isObj(body) && typeof body.prefix === 'string' ? `log prefix "${body.prefix}"` : 'log'
    case 'set': {
      const b = body as Obj
      return `${String(b.op)} ${String(b.set)} { ${exprText(b.elem)} }`
    }
    case 'xt': return `xt ${String((body as Obj).type)} "${String((body as Obj).name)}"`
    default: return json(st)
  }
}

/** The rule as `nft list ruleset` prints it inside its chain (where it is and its handle are told apart). */
export function ruleText(rule: NftRule): string {
  const body = rule.expr.map(statementText).filter((t) => t.length > 0).join(' ')
  return `${body}${rule.comment === null ? '' : ` comment "${rule.comment}"`}`
}

/** Where the rule is: "ip kube-proxy services". */
export function ruleWhere(rule: Pick<NftRule, 'family' | 'table' | 'chain'>): string {
  return `${rule.family} ${rule.table} ${rule.chain}`
}
