/**
 * Shell-like word splitting for netfilter save formats. iptables-save quotes an argument with double
 * quotes only when it contains spaces or quotes, and escapes `"`, `'` and `\` inside with a
 * backslash (xtables_save_string); ipvsadm and conntrack never quote. A hand-written loop instead of
 * a regex keeps this linear on hostile input, and plain string arrays (no object per word) keep a
 * 400k-line dump from drowning in garbage collection.
 */

export interface Tokens {
  words: string[]
  /** Indices of words that were quoted: those are always arguments, even "-x" or "!". Usually empty. */
  quoted: Set<number> | null
  /** Set when the line cannot be split (unterminated quote, trailing backslash). */
  error?: string
}

export function tokenize(line: string): Tokens {
  // Most lines have no quotes, escapes or tabs: the native split is several times faster than a loop.
  if (line.indexOf('\\') < 0 && line.indexOf('\t') < 0) {
    const fast = splitSimple(line)
    if (fast) return fast
  }
  return splitSlow(line)
}

/**
 * Lines without escapes: native indexOf jumps from space to space and quote to quote, with no
 * intermediate arrays. Returns null (use the slow path) for the odd cases: unbalanced quotes, or a
 * quote touching a word ("a"b, x"y").
 */
function splitSimple(line: string): Tokens | null {
  const words: string[] = []
  let quoted: Set<number> | null = null
  const n = line.length
  let i = 0
  while (i < n) {
    const c = line.charCodeAt(i)
    if (c === 32) {
      i++
      continue
    }
    if (c === 34) {
      const close = line.indexOf('"', i + 1)
      if (close < 0) return null
      if (close + 1 < n && line.charCodeAt(close + 1) !== 32) return null
      ;(quoted ??= new Set()).add(words.length)
      words.push(line.slice(i + 1, close))
      i = close + 1
      continue
    }
    let end = line.indexOf(' ', i)
    if (end < 0) end = n
    const word = line.slice(i, end)
    if (word.indexOf('"') >= 0) return null
    words.push(word)
    i = end
  }
  return {words, quoted}
}

/** The character-by-character splitter; exported so tests can check the fast path agrees with it. */
export function splitSlow(line: string): Tokens {
  const words: string[] = []
  let quoted: Set<number> | null = null
  const n = line.length
  let i = 0
  while (i < n) {
    let c = line.charCodeAt(i)
    if (c === 32 || c === 9) {
      i++
      continue
    }
    // Fast path: an unquoted word without escapes is a plain slice.
    const start = i
    let simple = true
    while (i < n) {
      c = line.charCodeAt(i)
      if (c === 32 || c === 9) break
      if (c === 34 || c === 92) {
        simple = false
        break
      }
      i++
    }
    if (simple) {
      words.push(line.slice(start, i))
      continue
    }
    i = start
    let text = ''
    let wasQuoted = false
    let inQuote = false
    while (i < n) {
      c = line.charCodeAt(i)
      if (!inQuote && (c === 32 || c === 9)) break
      if (c === 92) {
        if (i + 1 >= n) return {words, quoted, error: 'backslash at end of line'}
        text += line[i + 1]
        i += 2
        continue
      }
      if (c === 34) {
        inQuote = !inQuote
        wasQuoted = true
        i++
        continue
      }
      text += line[i]
      i++
    }
    if (inQuote) return {words, quoted, error: 'unterminated double quote'}
    if (wasQuoted) (quoted ??= new Set()).add(words.length)
    words.push(text)
  }
  return {words, quoted}
}
