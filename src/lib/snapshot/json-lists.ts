/**
 * JSON.parse of a whole document, except that the arrays at a few paths are never built: each of
 * their items is parsed on its own and handed to a callback, and the array comes back empty.
 *
 * Why: a 5,000-node snapshot's API objects, parsed at once, take ~1.6× the file, and the file's
 * text another 1×. Parsed one at a time, from a window of the file's bytes that moves forward as
 * the scan does, an object lives only until the callback has read what it needs, and neither the
 * text nor all the raw objects are ever held.
 *
 * The scan works on UTF-8 bytes: JSON's structural characters are ASCII and no byte of a multi-byte
 * sequence is ASCII, so brackets and quotes can be found without decoding. Each value is still
 * decoded and checked by JSON.parse itself. Anything this scanner does not expect (invalid JSON, a
 * duplicate key, `__proto__`) throws NotScanned, and the caller parses the whole text instead, so
 * errors and odd documents read exactly as JSON.parse reads them.
 */
export class NotScanned extends Error {}

/** An item of an array at one of the paths, with the path and its index in the array. */
export type OnItem = (path: string, item: unknown, index: number) => void

/** Reads the next bytes into `into` at `offset`; returns how many (0 at the end). */
export type ReadMore = (into: Buffer, offset: number, length: number) => number

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c
const COLON = 0x3a
/**
 * `source` is the whole document, or a reader of it: then only a window of `window` bytes is held
 * (more while one value is larger). `paths` are dotted key paths from the top-level object
 * ("cluster.objects.pods").
 */
export function parseWithLists(source: Buffer | ReadMore, paths: readonly string[], onItem: OnItem, window = 4 << 20): unknown {
  const prefixes = new Set(paths.flatMap((p) => p.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'))))
  const lists = new Set(paths)
  // The window: buf[0] is the document's byte `base`, and bytes up to `end` (exclusive) are in it.
  // Bytes before `keep` are no longer needed and may be dropped when the window moves.
  let buf = typeof source === 'function' ? Buffer.allocUnsafe(window) : source
  let base = 0
  let end = typeof source === 'function' ? 0 : source.length
  let keep = 0
  let done = typeof source !== 'function'

  const fail = (): never => {
    throw new NotScanned()
  }
  /** Moves the window so that it holds byte i (and every byte from `keep`); false at the document's end. */
  const more = (i: number): boolean => {
    while (!done && i >= end) {
      const kept = end - keep
      // Grow while one value is larger than the window; back to the window's size after it.
      const size = kept + window / 2 > buf.length ? Math.max(buf.length * 2, kept + window) : buf.length > window && kept <= window / 2 ? window : buf.length
      if (size === buf.length) {
        buf.copyWithin(0, keep - base, end - base)
      } else {
        const next = Buffer.allocUnsafe(size)
        buf.copy(next, 0, keep - base, end - base)
        buf = next
      }
      base = keep
      let filled = kept
      while (filled < buf.length) {
        const n = (source as ReadMore)(buf, filled, buf.length - filled)
        if (n === 0) {
          done = true
          break
        }
        filled += n
      }
      end = base + filled
    }
    return i < end
  }
  const byte = (i: number): number => (i < end || more(i) ? (buf[i - base] as number) : -1)
  const space = (i: number): number => {
    for (;;) {
      const b = byte(i)
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return i
      i++
    }
  }
  const endOfString = (i: number): number => {
    let j = i + 1
    for (;;) {
      const bytes = buf
      const offset = base
      const limit = end
      while (j < limit) {
        const b = bytes[j - offset]
        if (b === QUOTE) return j + 1
        j += b === BACKSLASH ? 2 : 1
      }
      if (!more(j)) return fail()
    }
  }
  /** Index just past the value starting at i (which is not whitespace). */
  const endOfValue = (i: number): number => {
    const first = byte(i)
    if (first === QUOTE) return endOfString(i)
    if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
      // One loop over the window's bytes, strings included (a call per string cost more than the
      // bytes it skipped: most strings of API objects are a few bytes long).
      let depth = 0
      let inString = false
      let j = i
      for (;;) {
        const bytes = buf
        const offset = base
        const stop = end - offset
        let k = j - offset
        while (k < stop) {
          const b = bytes[k]
          if (inString) {
            if (b === QUOTE) inString = false
            k += b === BACKSLASH ? 2 : 1
            continue
          }
          if (b === QUOTE) inString = true
          else if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth++
          else if ((b === CLOSE_OBJECT || b === CLOSE_ARRAY) && --depth === 0) return k + offset + 1
          k++
        }
        // Past the window (by one after an escape at its edge): move it on, from the value's start.
        j = k + offset
        if (!more(j)) return fail()
      }
    }
    // A number or a literal: JSON.parse of the slice decides whether it is one.
    let j = i
    for (;;) {
      const b = byte(j)
      if (b === -1 || b === COMMA || b === CLOSE_OBJECT || b === CLOSE_ARRAY || b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) return j
      j++
    }
  }
  const parse = (start: number, stop: number): unknown => {
    try {
      return JSON.parse(buf.toString('utf8', start - base, stop - base))
    } catch {
      return fail()
    }
  }
  const items = (i: number, path: string): number => {
    let index = 0
    i = space(i + 1)
    if (byte(i) === CLOSE_ARRAY) return i + 1
    for (;;) {
      keep = i
      const stop = endOfValue(i)
      onItem(path, parse(i, stop), index++)
      keep = stop
      i = space(stop)
      const b = byte(i)
      if (b === CLOSE_ARRAY) return i + 1
      if (b !== COMMA) fail()
      i = space(i + 1)
    }
  }
  /** The object at i into `out`; returns the index past it. */
  const object = (i: number, path: string, out: Record<string, unknown>): number => {
    i = space(i + 1)
    if (byte(i) === CLOSE_OBJECT) return i + 1
    for (;;) {
      if (byte(i) !== QUOTE) fail()
      keep = i
      const keyEnd = endOfString(i)
      const key = parse(i, keyEnd) as string
      if (key === '__proto__' || Object.hasOwn(out, key)) fail()
      i = space(keyEnd)
      if (byte(i) !== COLON) fail()
      i = space(i + 1)
      keep = i
      const at = path ? `${path}.${key}` : key
      const first = byte(i)
      if (lists.has(at) && first === OPEN_ARRAY) {
        i = items(i, at)
        out[key] = []
      } else if (prefixes.has(at) && first === OPEN_OBJECT) {
        const inner: Record<string, unknown> = {}
        i = object(i, at, inner)
        out[key] = inner
      } else {
        const stop = endOfValue(i)
        out[key] = parse(i, stop)
        i = stop
      }
      keep = i
      i = space(i)
      const b = byte(i)
      if (b === CLOSE_OBJECT) return i + 1
      if (b !== COMMA) fail()
      i = space(i + 1)
    }
  }
  const start = space(0)
  if (byte(start) !== OPEN_OBJECT) fail()
  const doc: Record<string, unknown> = {}
  const after = object(start, '', doc)
  keep = after
  if (byte(space(after)) !== -1) fail()
  return doc
}
