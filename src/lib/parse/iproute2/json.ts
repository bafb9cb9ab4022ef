/**
 * Shared plumbing for the iproute2 `-j` parsers: read the top-level array without throwing, and
 * read typed fields out of one entry, turning wrong types into problems instead of exceptions.
 * iproute2 prints everything on one line, so problems carry line 0 and name the array index.
 */
import {problem, type ParseProblem} from '../result.js'

export type JsonRecord = Record<string, unknown>

export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The entries of the top-level JSON array, or [] plus a problem when the input is not one. */
export function readJsonArray(text: string, what: string, problems: ParseProblem[]): unknown[] {
  if (typeof text !== 'string') {
    problems.push(problem(0, `${what}: input is not text`))
    return []
  }
  // Empty stdout is what iproute2 prints for an empty list in some versions (and a dead transport
  // prints nothing): it is not a parse failure.
  if (text.trim() === '') return []
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    problems.push(problem(0, `${what}: invalid JSON (${(error as Error).message})`, text))
    return []
  }
  if (!Array.isArray(parsed)) {
    problems.push(problem(0, `${what}: expected a JSON array at top level, got ${describeType(parsed)}`, text))
    return []
  }
  return parsed
}

export function describeType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/** Typed reads of one entry; a present field of the wrong type becomes a problem and reads as undefined. */
export class Fields {
  constructor(
    readonly obj: JsonRecord,
    private readonly where: string,
    private readonly problems: ParseProblem[],
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, key)
  }

  private wrong(key: string, expected: string): undefined {
    this.problems.push(problem(0, `${this.where}: field "${key}" should be ${expected}, got ${describeType(this.obj[key])}`))
    return undefined
  }

  str(key: string): string | undefined {
    if (!this.has(key)) return undefined
    const v = this.obj[key]
    return typeof v === 'string' ? v : this.wrong(key, 'a string')
  }

  /** Strings or numbers as a string: iproute2 prints table ids and protocols either way. */
  strOrNum(key: string): string | undefined {
    if (!this.has(key)) return undefined
    const v = this.obj[key]
    if (typeof v === 'string') return v
    if (typeof v === 'number' && Number.isFinite(v)) return String(v)
    return this.wrong(key, 'a string or number')
  }

  num(key: string): number | undefined {
    if (!this.has(key)) return undefined
    const v = this.obj[key]
    return typeof v === 'number' && Number.isFinite(v) ? v : this.wrong(key, 'a number')
  }

  /** iproute2 prints some booleans as true/false and others as 0/1 (bridge stp_state, vlan_filtering). */
  bool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined
    const v = this.obj[key]
    if (typeof v === 'boolean') return v
    if (v === 0 || v === 1) return v === 1
    return this.wrong(key, 'a boolean')
  }

  /** Flag-style keys like "not", "router", "proxy" are printed as `"key": null`: presence is the value. */
  flag(key: string): boolean {
    return this.has(key) && this.obj[key] !== false
  }

  strArray(key: string): string[] | undefined {
    if (!this.has(key)) return undefined
    const v = this.obj[key]
    if (!Array.isArray(v)) return this.wrong(key, 'an array of strings')
    const out: string[] = []
    for (const item of v) {
      if (typeof item === 'string') out.push(item)
      else this.problems.push(problem(0, `${this.where}: field "${key}" has a non-string item (${describeType(item)})`))
    }
    return out
  }

  record(key: string): Fields | undefined {
    if (!this.has(key)) return undefined
    const v = this.obj[key]
    if (!isRecord(v)) return this.wrong(key, 'an object')
    return new Fields(v, `${this.where}.${key}`, this.problems)
  }

  array(key: string): unknown[] | undefined {
    if (!this.has(key)) return undefined
    const v = this.obj[key]
    return Array.isArray(v) ? v : this.wrong(key, 'an array')
  }
}

/** Entry i as Fields, or undefined plus a problem when it is not an object. */
export function entryFields(entry: unknown, what: string, index: number, problems: ParseProblem[]): Fields | undefined {
  const where = `${what}[${index}]`
  if (!isRecord(entry)) {
    problems.push(problem(0, `${where}: expected an object, got ${describeType(entry)}`, safeStringify(entry)))
    return undefined
  }
  return new Fields(entry, where, problems)
}

export function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return String(v)
  }
}

/** Parse "0x4000" / "16384" / 16384 as an unsigned 32-bit number (fwmark, fwmask). */
export function parseU32(v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const s = v.trim()
  if (!/^(0x[0-9a-f]{1,8}|[0-9]{1,10})$/i.test(s)) return undefined
  const n = Number(s)
  return n <= 0xffffffff ? n : undefined
}

/**
 * Kernel table ids 253/254/255 are what iproute2 names default/main/local; everything else stays as
 * printed (a number as a decimal string, or a name from rt_tables we cannot resolve without that file).
 */
export function normaliseTable(t: string | undefined): string {
  if (t === undefined) return 'main'
  const known: Record<string, string> = {'253': 'default', '254': 'main', '255': 'local', unspec: 'unspec', '0': 'unspec'}
  return known[t] ?? t
}
