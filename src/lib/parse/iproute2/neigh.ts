/** `ip -j neigh show` (and `ip -j neigh show proxy`): ARP/NDP entries. */
import {parseIp} from '../../net/cidr.js'
import {problem, type ParseProblem, type ParseResult} from '../result.js'
import {entryFields, readJsonArray, safeStringify} from './json.js'
import {setIf} from './links.js'

export interface Neighbour {
  /** Canonical IP. */
  dst: string
  family: 4 | 6
  dev?: string
  lladdr?: string
  /** PERMANENT, REACHABLE, STALE, INCOMPLETE, FAILED, NOARP… (several may be set). */
  state: string[]
  router: boolean
  proxy: boolean
  externLearn: boolean
}

export function parseNeighbours(text: string): ParseResult<Neighbour[]> {
  const problems: ParseProblem[] = []
  const value: Neighbour[] = []
  readJsonArray(text, 'ip neigh', problems).forEach((entry, i) => {
    const f = entryFields(entry, 'ip neigh', i, problems)
    if (!f) return
    const ip = parseIp(f.str('dst') ?? '')
    if (!ip) {
      problems.push(problem(0, `ip neigh[${i}]: missing or unreadable dst`, safeStringify(entry)))
      return
    }
    // router/proxy/extern_learn are printed as `"router": null`: presence is the flag.
    const n: Neighbour = {dst: ip.text, family: ip.family, state: f.strArray('state') ?? [], router: f.flag('router'), proxy: f.flag('proxy'), externLearn: f.flag('extern_learn')}
    setIf(n, 'dev', f.str('dev'))
    setIf(n, 'lladdr', f.str('lladdr'))
    value.push(n)
  })
  return {value, problems}
}
