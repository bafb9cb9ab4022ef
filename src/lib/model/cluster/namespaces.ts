import {byKey, meta, type ModelProblem} from './read.js'

export function buildNamespaces(raw: readonly unknown[], problems: ModelProblem[]): {name: string; labels: Record<string, string>}[] {
  const out: {name: string; namespace: string; labels: Record<string, string>}[] = []
  raw.forEach((obj, i) => {
    const m = meta(obj)
    if (!m) return void problems.push({subject: `namespaces[${i}]`, message: 'namespace without metadata.name ignored'})
    out.push({name: m.name, namespace: '', labels: m.labels})
  })
  return out.sort(byKey).map(({name, labels}) => ({name, labels}))
}
