/**
 * CNI network configs as read by `grep -r -H -n -e '' /etc/cni/net.d`: every line of every file as
 * `PATH:LINENO:CONTENT`. grep is used because it exists everywhere and keeps file boundaries in one
 * stdout; we reassemble each file, then parse it the way libcni does.
 */
import {normaliseCidr} from '../net/cidr.js'
import {problem, type ParseProblem, type ParseResult} from './result.js'

export interface CniPlugin {
  type: string
  /** Bridge name for the bridge plugin (cni0/cbr0). */
  bridge?: string
  mtu?: number
  /** host-local ipam ranges/subnet, normalised ("10.244.1.0/24"). */
  subnets?: string[]
  ipamType?: string
  isGateway?: boolean
  isDefaultGateway?: boolean
  ipMasq?: boolean
  /** From the plugin or, for flannel, its delegate. */
  hairpinMode?: boolean
  raw: Record<string, unknown>
}

export interface CniNetwork {
  name: string
  cniVersion?: string
  /** True for a .conflist (plugins[]); false for a single-plugin .conf/.json. */
  isList: boolean
  plugins: CniPlugin[]
}

export interface CniConfFile {
  path: string
  /** Base file name; what the runtime sorts on. */
  name: string
  content: string
  parsed?: CniNetwork
  /** Why a runtime would not load this file (bad JSON, wrong extension, missing fields). */
  invalid?: string
}

const LINE_RE = /^(.+?):(\d+):(.*)$/
const EXTENSIONS = ['.conf', '.conflist', '.json']

/** Files sorted by name, as libcni's ConfFiles does; see activeCniConf for which one is in effect. */
export function parseCniConfDir(text: string): ParseResult<CniConfFile[]> {
  const problems: ParseProblem[] = []
  if (typeof text !== 'string') return {value: [], problems: [problem(0, 'cni conf: input is not text')]}
  const files = new Map<string, {firstLine: number; lines: Map<number, string>}>()
  text.split('\n').forEach((raw, i) => {
    if (raw === '' && i === text.split('\n').length - 1) return
    const m = LINE_RE.exec(raw)
    if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) {
      problems.push(problem(i + 1, 'cni conf: expected "PATH:LINE:CONTENT" (grep -r -H -n)', raw))
      return
    }
    let f = files.get(m[1])
    if (!f) {
      f = {firstLine: i + 1, lines: new Map()}
      files.set(m[1], f)
    }
    f.lines.set(Number(m[2]), m[3])
  })
  const value: CniConfFile[] = []
  for (const [path, f] of files) {
    const nums = [...f.lines.keys()].sort((a, b) => a - b)
    // grep -n omits nothing (-e '' matches empty lines too); a gap means the capture was cut.
    const max = nums[nums.length - 1] ?? 0
    if (nums.length !== max) problems.push(problem(f.firstLine, `cni conf: ${path}: lines missing from capture (${nums.length} of ${max})`))
    // Missing lines stay as empty lines so JSON error positions still match the file — unless
    // the line numbers are absurd (a corrupted capture), which must not allocate gigabytes.
    const content =
      max - nums.length <= 10_000 ? Array.from({length: max}, (_, k) => f.lines.get(k + 1) ?? '').join('\n') : nums.map((n) => f.lines.get(n) ?? '').join('\n')
    const file: CniConfFile = {path, name: path.slice(path.lastIndexOf('/') + 1), content}
    readConf(file, f.firstLine, problems)
    value.push(file)
  }
  // Go's sort.Strings is bytewise; localeCompare would order "10-a" and "9-b" differently.
  value.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return {value, problems}
}

/** The config the runtime uses: the first valid file in order, top-level directory only. */
export function activeCniConf(files: readonly CniConfFile[]): CniConfFile | undefined {
  return files.find((f) => f.parsed && !f.invalid)
}

function readConf(file: CniConfFile, line: number, problems: ParseProblem[]): void {
  const ext = EXTENSIONS.find((e) => file.name.endsWith(e))
  if (!ext) {
    file.invalid = 'not a .conf, .conflist or .json file'
    return
  }
  let json: unknown
  try {
    json = JSON.parse(file.content)
  } catch (error) {
    file.invalid = `invalid JSON: ${(error as Error).message}`
    problems.push(problem(line, `cni conf: ${file.path}: ${file.invalid}`))
    return
  }
  if (!isObj(json)) {
    file.invalid = 'top level is not a JSON object'
    problems.push(problem(line, `cni conf: ${file.path}: ${file.invalid}`))
    return
  }
  const name = typeof json.name === 'string' ? json.name : ''
  const cniVersion = typeof json.cniVersion === 'string' ? json.cniVersion : undefined
  // libcni treats .conflist as a list; a .conf/.json containing "plugins" is also loaded as a list.
  const isList = ext === '.conflist' || Array.isArray(json.plugins)
  const rawPlugins: unknown[] = isList ? (Array.isArray(json.plugins) ? json.plugins : []) : [json]
  const plugins: CniPlugin[] = []
  rawPlugins.forEach((p, i) => {
    const plugin = readPlugin(p)
    if (plugin) plugins.push(plugin)
    else problems.push(problem(line, `cni conf: ${file.path}: plugin ${i} has no "type"`))
  })
  file.parsed = {name, isList, plugins}
  if (cniVersion !== undefined) file.parsed.cniVersion = cniVersion
  if (isList && name === '') file.invalid = 'conflist has no "name"'
  else if (plugins.length === 0 || plugins.length !== rawPlugins.length) file.invalid = isList ? 'conflist has no usable plugins' : 'config has no "type"'
  if (file.invalid && !problems.some((p) => p.message.includes(file.path))) problems.push(problem(line, `cni conf: ${file.path}: ${file.invalid}`))
}

function readPlugin(p: unknown): CniPlugin | undefined {
  if (!isObj(p) || typeof p.type !== 'string' || p.type === '') return undefined
  const plugin: CniPlugin = {type: p.type, raw: p}
  if (typeof p.bridge === 'string') plugin.bridge = p.bridge
  if (typeof p.mtu === 'number' && Number.isFinite(p.mtu)) plugin.mtu = p.mtu
  for (const k of ['isGateway', 'isDefaultGateway', 'ipMasq', 'hairpinMode'] as const) if (typeof p[k] === 'boolean') plugin[k] = p[k]
  const delegate = p.delegate
  if (isObj(delegate)) {
    for (const k of ['isDefaultGateway', 'hairpinMode'] as const) if (plugin[k] === undefined && typeof delegate[k] === 'boolean') plugin[k] = delegate[k]
    if (plugin.bridge === undefined && typeof delegate.bridge === 'string') plugin.bridge = delegate.bridge
    if (plugin.mtu === undefined && typeof delegate.mtu === 'number' && Number.isFinite(delegate.mtu)) plugin.mtu = delegate.mtu
  }
  const ipam = p.ipam
  if (isObj(ipam)) {
    if (typeof ipam.type === 'string') plugin.ipamType = ipam.type
    const subnets = ipamSubnets(ipam)
    if (subnets.length > 0) plugin.subnets = subnets
  }
  return plugin
}

/** host-local: "subnet" (old form) and "ranges": [[{subnet}…]…] (range sets). */
function ipamSubnets(ipam: Record<string, unknown>): string[] {
  const out: string[] = []
  const add = (s: unknown): void => {
    const c = typeof s === 'string' ? normaliseCidr(s) : undefined
    if (c && !out.includes(c)) out.push(c)
  }
  add(ipam.subnet)
  if (Array.isArray(ipam.ranges)) {
    for (const set of ipam.ranges) {
      if (Array.isArray(set)) for (const r of set) if (isObj(r)) add(r.subnet)
    }
  }
  return out
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
