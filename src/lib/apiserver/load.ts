/** Objects for the stand-in server from YAML or JSON text: multi-document, Lists expanded. */
import {readFileSync} from 'node:fs'
import {parseAllDocuments} from 'yaml'

export function objectsFromYaml(text: string): unknown[] {
  const out: unknown[] = []
  const add = (value: unknown): void => {
    if (value === null || value === undefined) return
    if (Array.isArray(value)) return value.forEach(add)
    const v = value as {kind?: unknown; items?: unknown}
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) return v.items.forEach(add)
    out.push(value)
  }
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML document: ${doc.errors[0]?.message.split('\n')[0]}`)
    add(doc.toJS())
  }
  return out
}

export function objectsFromYamlFile(path: string): unknown[] {
  return objectsFromYaml(readFileSync(path, 'utf8'))
}
