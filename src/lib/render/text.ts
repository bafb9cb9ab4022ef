/** Text layout shared by the human views: word wrapping that never breaks a word. */

/**
 * Wrap at spaces to `width` columns: the first line starts with `first`, the others with `rest`.
 * A word longer than a line (an iptables rule's chain hash, a path) is kept whole on a line of its
 * own and overflows: a terminal soft-wraps it, and a copied token still works.
 */
export function wrapWords(text: string, width: number, first = '', rest = first): string[] {
  // Break only at spaces between words; the text's own leading spaces and padding stay as they are.
  const [lead = '', ...parts] = text.split(/(\S+)/)
  const lines: string[] = []
  let line = first + lead
  let words = 0
  for (let i = 0; i < parts.length; i += 2) {
    const word = parts[i] as string
    const gap = parts[i + 1] ?? ''
    if (words > 0 && visibleLength(line) + word.length > width) {
      lines.push(line.trimEnd())
      line = rest
    }
    line += word + gap
    words++
  }
  lines.push(line.trimEnd())
  return lines
}

/** Visible length: ANSI colour codes take no columns. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001B\[[0-9;]*m/g, '').length
}
