/**
 * Label selectors as the API server parses `?labelSelector=`: equality (`k=v`, `k==v`, `k!=v`),
 * existence (`k`, `!k`) and sets (`k in (a,b)`, `k notin (a,b)`), requirements joined by commas.
 */
export type LabelPredicate = (labels: Record<string, string>) => boolean

const KEY = /^([A-Za-z0-9][-A-Za-z0-9_.]*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** A predicate, or the reason the selector is invalid (the server answers 400 with it). */
export function parseLabelSelector(text: string): LabelPredicate | {error: string} {
  const requirements: LabelPredicate[] = []
  for (const part of splitRequirements(text)) {
    const req = part.trim()
    if (req === '') continue
    const set = /^(!?)([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req)
    if (set) {
      const key = set[2] ?? ''
      const values = (set[4] ?? '').split(',').map((v) => v.trim())
      if (!KEY.test(key) || values.some((v) => !VALUE.test(v))) return {error: `unable to parse requirement: ${req}`}
      const negate = set[3] === 'notin'
      requirements.push((l) => (negate ? !(key in l) || !values.includes(l[key] ?? '') : key in l && values.includes(l[key] ?? '')))
      continue
    }
    const eq = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/.exec(req)
    if (eq) {
      const key = eq[1] ?? ''
      const value = eq[3] ?? ''
      if (!KEY.test(key) || !VALUE.test(value)) return {error: `unable to parse requirement: ${req}`}
      requirements.push(eq[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value)
      continue
    }
    const exists = /^(!?)([^\s!=()]+)$/.exec(req)
    if (exists && KEY.test(exists[2] ?? '')) {
      const key = exists[2] ?? ''
      requirements.push(exists[1] === '!' ? (l) => !(key in l) : (l) => key in l)
      continue
    }
    return {error: `unable to parse requirement: ${req}`}
  }
  return (labels) => requirements.every((r) => r(labels))
}

// Commas inside "in (a,b)" belong to the set, not to the list of requirements.
function splitRequirements(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  parts.push(current)
  return parts
}
