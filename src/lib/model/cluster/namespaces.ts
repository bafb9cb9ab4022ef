import {buildEach, meta, type ModelProblem} from './read.js'

export function buildNamespaces(raw: unknown[], problems: ModelProblem[], release = false): {name: string; labels: Record<string, string>}[] {
  const out = buildEach(
    raw,
    (obj, i) => {
      const m = meta(obj)
      if (!m) return void problems.push({subject: `namespaces[${i}]`, message: 'namespace without metadata.name ignored'})
      return {name: m.name, namespace: '', labels: m.labels}
    },
    release,
  )
  return out.map(({name, labels}) => ({name, labels}))
}
