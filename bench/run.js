#!/usr/bin/env node
/**
 * knet's benchmarks (issue 8). Never part of the tests. Runs after `npm run build`:
 *   npm run bench                      every benchmark, 5 runs each (the figures in BENCHMARKS.md)
 *   npm run bench -- nat startup       only these (startup, nat, nft, doctor, cluster)
 *   npm run bench -- --quick           smaller inputs, 3 runs: a smoke test, not a figure to quote
 *   npm run bench -- --runs 7          more runs per figure
 *
 * For each figure: the median of the runs, the baseline's median measured in the same run
 * (baseline and measured alternate, so machine load hits both alike), the ratio and its target.
 * Every measured run is a fresh `node` process on dist/, as a user's `knet` would be; inputs are
 * generated first by bench/generate.ts (through tsx). The NAT baseline needs root (a network
 * namespace and iptables-restore); without it that baseline is skipped and the reason printed.
 */
import {performance} from 'node:perf_hooks'
import {spawnSync} from 'node:child_process'
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {availableParallelism, cpus, loadavg, tmpdir, totalmem} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ALL = ['startup', 'nat', 'nft', 'doctor', 'cluster']

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const runsAt = argv.indexOf('--runs')
const RUNS = runsAt >= 0 ? Number(argv[runsAt + 1]) : quick ? 3 : 5
const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs')
const unknown = names.filter((n) => !ALL.includes(n))
if (unknown.length > 0 || !(RUNS >= 1)) {
  process.stderr.write(`usage: npm run bench -- [${ALL.join('|')}…] [--quick] [--runs N]\n`)
  process.exit(2)
}
const selected = names.length ? ALL.filter((n) => names.includes(n)) : ALL
if (!existsSync(join(ROOT, 'dist', 'commands'))) {
  process.stderr.write('bench: dist/ is missing: run `npm run bench` (which builds first) or `npm run build`\n')
  process.exit(2)
}

const work = mkdtempSync(join(tmpdir(), 'knet-bench-'))
const namespaces = new Set()
function cleanup() {
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns])
  namespaces.clear()
  rmSync(work, {recursive: true, force: true})
}
process.on('SIGINT', () => {
  cleanup()
  process.exit(130)
})

// ---------------------------------------------------------------- helpers

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmtMs = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`)
const fmtMb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`
const log = (m) => process.stderr.write(`${m}\n`)

/** Runs a command to completion; returns its wall time. Throws with its stderr when it fails. */
function timed(cmd, args, options = {}) {
  const t = performance.now()
  const r = spawnSync(cmd, args, {cwd: ROOT, maxBuffer: 1 << 30, encoding: 'utf8', ...options})
  const ms = performance.now() - t
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().slice(0, 500)}`)
  return {ms, stdout: r.stdout}
}

/** A measuring child prints one JSON line. */
function measure(script, args) {
  const {stdout} = timed(process.execPath, [join(ROOT, 'bench', 'measure', script), ...args])
  return JSON.parse(stdout.trim().split('\n').pop())
}

function generate(args) {
  const t = performance.now()
  timed(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'generate.ts'), ...args])
  return performance.now() - t
}

const results = [] // {bench, figure, measured, baseline, ratio, target, met, note}
const scaling = [] // {bench, from, to, t1, t2, ratio}

function record(bench, figure, measured, baseline, target, unit, note = '') {
  const ratio = baseline ? measured / baseline : null
  const row = {bench, figure, measured, baseline, ratio, target, unit, met: ratio === null ? null : ratio <= target, note}
  results.push(row)
  const b = baseline ? (unit === 'bytes' ? fmtMb(baseline) : fmtMs(baseline)) : 'skipped'
  const m = unit === 'bytes' ? fmtMb(measured) : fmtMs(measured)
  log(`  ${figure}: ${m} vs ${b} → ${ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`} (target ≤ ${target}×) ${row.met === null ? '' : row.met ? 'met' : 'MISSED'}${note ? ` — ${note}` : ''}`)
}

// ---------------------------------------------------------------- start-up

function benchStartup() {
  log('startup: `knet --version` and `knet --help` (bin/run.js on dist) against `node -e 0`')
  if (!existsSync(join(ROOT, 'oclif.manifest.json'))) log('  warning: no oclif.manifest.json (built with a bare tsc?): `npm run build` writes it')
  const n = Math.max(RUNS, 5) * 2
  const cmds = {node: ['-e', '0'], version: [join(ROOT, 'bin', 'run.js'), '--version'], help: [join(ROOT, 'bin', 'run.js'), '--help']}
  const times = {node: [], version: [], help: []}
  timed(process.execPath, cmds.help) // warm the file cache
  for (let i = 0; i < n; i++) for (const [k, a] of Object.entries(cmds)) times[k].push(timed(process.execPath, a, {env: {...process.env, NO_COLOR: '1'}}).ms)
  const base = median(times.node)
  record('startup', 'knet --version', median(times.version), base, 3, 'ms', `${n} runs each`)
  record('startup', 'knet --help', median(times.help), base, 3, 'ms', `${n} runs each`)
}

// ---------------------------------------------------------------- NAT

function natBaselineSkip() {
  if (process.platform !== 'linux') return 'not Linux: no network namespaces'
  if (process.getuid?.() !== 0) return 'not root: creating a network namespace needs root (run `sudo npm run bench -- nat`)'
  for (const tool of ['ip', 'iptables-restore', 'iptables-save']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not found`
  }
  return null
}

function benchNat() {
  const sizes = quick ? [[1000, 3], [2000, 3]] : [[1000, 3], [1000, 10], [5000, 3], [5000, 10], [10_000, 3], [10_000, 10]]
  const pairs = quick ? [[[1000, 3], [2000, 3]]] : [[[5000, 3], [10_000, 3]], [[5000, 10], [10_000, 10]]]
  const skip = natBaselineSkip()
  log(`nat: knet parsing + evaluating one node's kube-proxy dump (doctor's NAT checks + a trace to one Service; and trace alone: parse + trace) against \`iptables-save\` printing it from a namespace`)
  if (skip) log(`  baseline skipped: ${skip}; knet is timed on the generated text instead`)
  const medians = new Map()
  for (const [S, E] of sizes) {
    const dir = join(work, `nat-${S}x${E}`)
    const genMs = generate(['nat', String(S), String(E), dir])
    let dump = join(dir, 'restore.txt')
    let ns = null
    let restoreMs = null
    if (!skip) {
      ns = `knet-bench-${process.pid}-${S}x${E}`
      timed('ip', ['netns', 'add', ns])
      namespaces.add(ns)
      const input = openSync(join(dir, 'restore.txt'), 'r')
      try {
        restoreMs = timed('ip', ['netns', 'exec', ns, 'iptables-restore'], {stdio: [input, 'ignore', 'pipe']}).ms
      } finally {
        closeSync(input)
      }
      dump = join(dir, 'dump.txt')
    }
    const base = []
    const knet = []
    const traceOnly = []
    let last
    for (let r = 0; r < RUNS; r++) {
      if (ns) {
        const out = openSync(dump, 'w')
        try {
          base.push(timed('ip', ['netns', 'exec', ns, 'iptables-save'], {stdio: ['ignore', out, 'pipe']}).ms)
        } finally {
          closeSync(out)
        }
      }
      last = measure('nat.js', [dir, dump])
      knet.push(last)
      traceOnly.push(measure('nat.js', [dir, dump, 'trace']))
    }
    if (ns) {
      spawnSync('ip', ['netns', 'del', ns])
      namespaces.delete(ns)
    }
    const lines = readFileSync(dump, 'utf8').split('\n').length - 1
    const total = median(knet.map((k) => k.totalMs))
    medians.set(`${S}x${E}`, total)
    const parts = `parse ${fmtMs(median(knet.map((k) => k.parseMs)))}, checks ${fmtMs(median(knet.map((k) => k.checksMs)))}, trace ${fmtMs(median(knet.map((k) => k.traceMs)))}`
    const sane = last.problems === 0 && last.findings === 0 && last.tracedEndpoints === last.expectedEndpoints
    const note = `${lines.toLocaleString('en')} lines; ${parts}${sane ? '' : `; UNEXPECTED: ${last.problems} unread lines, ${last.findings} findings, ${last.tracedEndpoints}/${last.expectedEndpoints} endpoints traced`}`
    log(`  ${S} Services × ${E} endpoints: generated in ${fmtMs(genMs)}${restoreMs === null ? '' : `, iptables-restore ${fmtMs(restoreMs)}`}`)
    record('nat', `${S} Services × ${E} endpoints`, total, base.length ? median(base) : null, 0.5, 'ms', note)
    // What `knet trace` does with the dump (issue 5's figure at 10,000 Services): no doctor checks.
    const traceTotal = median(traceOnly.map((k) => k.totalMs))
    medians.set(`trace ${S}x${E}`, traceTotal)
    record('trace', `${S} × ${E}: parse + trace, no checks`, traceTotal, base.length ? median(base) : null, 0.5, 'ms', `parse ${fmtMs(median(traceOnly.map((k) => k.parseMs)))}, trace ${fmtMs(median(traceOnly.map((k) => k.traceMs)))}`)
    rmSync(dir, {recursive: true, force: true})
  }
  for (const [[s1, e1], [s2, e2]] of pairs) {
    const t1 = medians.get(`${s1}x${e1}`)
    const t2 = medians.get(`${s2}x${e2}`)
    scaling.push({bench: 'nat', from: `${s1}×${e1}`, to: `${s2}×${e2}`, t1, t2, ratio: t2 / t1})
    const [u1, u2] = [medians.get(`trace ${s1}x${e1}`), medians.get(`trace ${s2}x${e2}`)]
    scaling.push({bench: 'trace', from: `${s1}×${e1}`, to: `${s2}×${e2}`, t1: u1, t2: u2, ratio: u2 / u1})
  }
}

// ---------------------------------------------------------------- nftables mode (issue 15)

function netnsSkip(tools) {
  if (process.platform !== 'linux') return 'not Linux: no network namespaces'
  if (process.getuid?.() !== 0) return 'not root: creating a network namespace needs root'
  for (const tool of ['ip', ...tools]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not found`
  }
  return null
}

function freshNamespace(label) {
  const ns = `knet-bench-${process.pid}-${label}`
  timed('ip', ['netns', 'add', ns])
  namespaces.add(ns)
  return ns
}

function dropNamespace(ns) {
  spawnSync('ip', ['netns', 'del', ns])
  namespaces.delete(ns)
}

/** Runs argv in the namespace with stdout to a file; returns the wall time. */
function inNamespaceTo(ns, argv, file) {
  const out = openSync(file, 'w')
  try {
    return timed('ip', ['netns', 'exec', ns, ...argv], {stdio: ['ignore', out, 'pipe']}).ms
  } finally {
    closeSync(out)
  }
}

function benchNft() {
  const sizes = quick ? [[1000, 3]] : [[10_000, 3], [10_000, 10]]
  const skip = netnsSkip(['nft'])
  log('nft: kube-proxy nftables mode — knet parsing the node\'s nft evidence (`nft -j list chains` + `nft -j list table ip kube-proxy`) and tracing one connection (and doctor\'s NAT checks + that trace) against `nft list table ip kube-proxy` printing the table from a namespace')
  if (skip) {
    log(`  skipped: ${skip} (the evidence is read from the kernel)`)
    return
  }
  for (const [S, E] of sizes) {
    const dir = join(work, `nft-${S}x${E}`)
    const genMs = generate(['nft', String(S), String(E), dir])
    const ns = freshNamespace(`nft-${S}x${E}`)
    const input = openSync(join(dir, 'ruleset.nft'), 'r')
    let loadMs
    try {
      loadMs = timed('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {stdio: [input, 'ignore', 'pipe']}).ms
    } finally {
      closeSync(input)
    }
    // The evidence, gathered once as knet gathers it (catalog.ts: nft-chains, then the table).
    const chains = join(dir, 'chains.json')
    const table = join(dir, 'table.json')
    inNamespaceTo(ns, ['nft', '-j', 'list', 'chains'], chains)
    const jsonMs = inNamespaceTo(ns, ['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], table)
    const base = []
    const traceRuns = []
    const checkRuns = []
    for (let r = 0; r < RUNS; r++) {
      base.push(inNamespaceTo(ns, ['nft', 'list', 'table', 'ip', 'kube-proxy'], join(dir, 'table.nft')))
      traceRuns.push(measure('nft.js', [dir, chains, table, 'trace']))
      checkRuns.push(measure('nft.js', [dir, chains, table, 'checks']))
    }
    dropNamespace(ns)
    const last = checkRuns[checkRuns.length - 1]
    const sane = last.problems === 0 && last.findings === 0 && last.tracedEndpoints === last.expectedEndpoints
    const kb = (f) => `${(statSync(f).size / 1e6).toFixed(1)} MB`
    log(`  ${S} Services × ${E} endpoints: generated in ${fmtMs(genMs)}, nft -f ${fmtMs(loadMs)}, nft -j list table ${fmtMs(jsonMs)} (${kb(table)} JSON, chains ${kb(chains)})`)
    const b = median(base)
    const m = (runs, k) => median(runs.map((x) => x[k]))
    record('nft', `${S} × ${E}: trace (parse + trace)`, m(traceRuns, 'totalMs'), b, 0.5, 'ms', `parse ${fmtMs(m(traceRuns, 'parseMs'))}, trace ${fmtMs(m(traceRuns, 'traceMs'))}`)
    record('nft', `${S} × ${E}: NAT checks + trace`, m(checkRuns, 'totalMs'), b, 0.5, 'ms', `parse ${fmtMs(m(checkRuns, 'parseMs'))}, checks ${fmtMs(m(checkRuns, 'checksMs'))}, trace ${fmtMs(m(checkRuns, 'traceMs'))}${sane ? '' : `; UNEXPECTED: ${last.problems} problems, ${last.findings} findings, ${last.tracedEndpoints}/${last.expectedEndpoints} endpoints traced`}`)
    rmSync(dir, {recursive: true, force: true})
  }
}

// ---------------------------------------------------------------- doctor --snapshot, whole process

/** Runs `knet doctor` to completion (exit 0 or 1: findings are not a failure here); returns the wall time. */
function timedDoctor(args) {
  const t = performance.now()
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), 'doctor', ...args], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  const ms = performance.now() - t
  if (r.error || (r.status !== 0 && r.status !== 1)) throw new Error(`knet doctor ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim().slice(0, 500)}`)
  return {ms, stdout: r.stdout}
}

function benchDoctor() {
  const [S, E] = quick ? [1000, 3] : [10_000, 3]
  const skip = netnsSkip(['iptables-restore', 'iptables-save'])
  log(`doctor: the whole \`knet doctor --snapshot\` process on a ${S}-Service iptables-mode node (with its cluster's API objects) against \`iptables-save\` printing that node's rules; and the node's snapshot size against the iptables-save text`)
  if (skip) {
    log(`  skipped: ${skip} (the evidence is read from the kernel)`)
    return
  }
  const dir = join(work, `doctor-${S}x${E}`)
  const genMs = generate(['nat', String(S), String(E), dir])
  const ns = freshNamespace(`doctor-${S}x${E}`)
  const input = openSync(join(dir, 'restore.txt'), 'r')
  try {
    timed('ip', ['netns', 'exec', ns, 'iptables-restore'], {stdio: [input, 'ignore', 'pipe']})
  } finally {
    closeSync(input)
  }
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'))
  // The node's evidence as knet gathers it: every catalogue command, through the netns transport.
  const nodeFile = join(dir, 'node.json')
  const gatherMs = timed(process.execPath, [join(ROOT, 'bin', 'run.js'), 'snapshot', '--node-access', 'netns', '--netns-map', `${meta.nodeName}=${ns}`, '-o', nodeFile]).ms
  const dump = join(dir, 'dump.txt')
  inNamespaceTo(ns, ['iptables-save'], dump)
  const dumpBytes = statSync(dump).size
  const nodeSnap = JSON.parse(readFileSync(nodeFile, 'utf8'))
  const sizes = nodeSnap.nodes[0].results.filter((r) => r.stdout.length > 100_000).map((r) => `${r.id} ${(Buffer.byteLength(r.stdout) / 1e6).toFixed(1)} MB`).join(', ')
  record('doctor', `node snapshot size (${sizes})`, statSync(nodeFile).size, dumpBytes, 1.5, 'bytes', `gathered in ${fmtMs(gatherMs)}; iptables-save text ${(dumpBytes / 1e6).toFixed(1)} MB`)
  // Doctor's input: the cluster's objects and the node's iptables-save as gathered (the other
  // evidence of a namespace-played node, with no routes or pods, would only add findings about that).
  const snapshot = {...nodeSnap, meta: {...nodeSnap.meta, clusterSource: 'objects-file'}, cluster: JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'))}
  snapshot.nodes = [{...nodeSnap.nodes[0], results: nodeSnap.nodes[0].results.filter((r) => r.id === 'iptables-save')}]
  const file = join(dir, 'doctor.json')
  writeFileSync(file, JSON.stringify(snapshot))
  log(`  ${S} Services × ${E} endpoints: generated in ${fmtMs(genMs)}; doctor's snapshot ${fmtMb(statSync(file).size)}`)
  const base = []
  const runs = []
  let out = ''
  timedDoctor(['--snapshot', file, '-o', 'json']) // warm the file cache
  for (let r = 0; r < RUNS; r++) {
    base.push(inNamespaceTo(ns, ['iptables-save'], dump))
    const d = timedDoctor(['--snapshot', file, '-o', 'json'])
    runs.push(d.ms)
    out = d.stdout
  }
  dropNamespace(ns)
  const report = JSON.parse(out)
  const nat = report.findings.filter((f) => /^(nat-|forward-policy|kube-proxy-mode|iptables-)/.test(f.check)).length
  record('doctor', `knet doctor --snapshot (${S} × ${E}), whole process`, median(runs), median(base), 0.5, 'ms', `${report.findings.length} findings (${nat} from node evidence), ${report.summary.skipped} skipped`)
  rmSync(dir, {recursive: true, force: true})
}

// ---------------------------------------------------------------- cluster

function benchCluster() {
  const full = quick ? {nodes: 1000, pods: 30_000, services: 2000} : {nodes: 5000, pods: 150_000, services: 10_000}
  const half = {nodes: full.nodes / 2, pods: full.pods / 2, services: full.services / 2}
  log(`cluster: doctor's API-level checks on a ${full.nodes}-node / ${full.pods}-pod / ${full.services}-Service snapshot against JSON.parse of the same file`)
  const totals = {}
  for (const [label, size] of [['half', half], ['full', full]]) {
    const file = join(work, `cluster-${label}.json`)
    const genMs = generate(['cluster', String(size.nodes), String(size.pods), String(size.services), file])
    const bytes = statSync(file).size
    log(`  ${size.nodes} nodes / ${size.pods} pods / ${size.services} Services: ${fmtMb(bytes)} snapshot, generated in ${fmtMs(genMs)}`)
    const parse = []
    const doctor = []
    for (let r = 0; r < RUNS; r++) {
      parse.push(measure('cluster.js', ['parse', file]))
      doctor.push(measure('cluster.js', ['doctor', file]))
    }
    rmSync(file, {force: true})
    const parseMs = median(parse.map((p) => p.parseMs))
    const d = (k) => median(doctor.map((x) => x[k]))
    totals[label] = d('totalMs')
    if (label === 'half') continue
    const last = doctor[doctor.length - 1]
    record('cluster', `API checks (model + ${last.checks} checks)`, d('apiChecksMs'), parseMs, 3, 'ms', `model ${fmtMs(d('modelMs'))}, checks ${fmtMs(d('checksMs'))}; ${last.findings} findings`)
    record('cluster', 'whole doctor path (read + validate + model + checks)', d('totalMs'), parseMs, 3, 'ms', `read + JSON.parse + schema ${fmtMs(d('readMs'))}`)
    record('cluster', 'peak RSS of doctor vs file size', d('maxRssBytes'), bytes, 4, 'bytes', `JSON.parse alone peaks at ${fmtMb(median(parse.map((p) => p.maxRssBytes)))} = ${(median(parse.map((p) => p.maxRssBytes)) / bytes).toFixed(2)}× the file`)
  }
  scaling.push({bench: 'cluster', from: `${half.nodes} nodes`, to: `${full.nodes} nodes`, t1: totals.half, t2: totals.full, ratio: totals.full / totals.half})
}

// ---------------------------------------------------------------- main

const started = performance.now()
const load0 = loadavg()
log(`knet bench${quick ? ' --quick (smaller inputs, fewer runs: not for the record)' : ''}: ${RUNS} runs per figure`)
log(`machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${fmtMb(totalmem())} memory, Node ${process.version}, ${process.platform}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`)
try {
  for (const name of selected) ({startup: benchStartup, nat: benchNat, nft: benchNft, doctor: benchDoctor, cluster: benchCluster})[name]()
} finally {
  cleanup()
}

const pad = (s, n) => String(s).padEnd(n)
const lines = ['', `${pad('benchmark', 9)} ${pad('figure', 54)} ${pad('median', 9)} ${pad('baseline', 9)} ${pad('ratio', 7)} ${pad('target', 7)} result`]
for (const r of results) {
  const f = (v) => (v === null ? 'skipped' : r.unit === 'bytes' ? fmtMb(v) : fmtMs(v))
  lines.push(`${pad(r.bench, 9)} ${pad(r.figure, 54)} ${pad(f(r.measured), 9)} ${pad(f(r.baseline), 9)} ${pad(r.ratio === null ? 'n/a' : `${r.ratio.toFixed(2)}×`, 7)} ${pad(`≤ ${r.target}×`, 7)} ${r.met === null ? 'no baseline' : r.met ? 'met' : 'MISSED'}`)
}
if (scaling.length) {
  lines.push('', 'scaling: time at 2× input ÷ time at 1× input (target ≤ 2.2)')
  for (const s of scaling) lines.push(`${pad(s.bench, 9)} ${pad(`${s.from} → ${s.to}`, 54)} ${pad(fmtMs(s.t1), 9)} ${pad(fmtMs(s.t2), 9)} ${pad(`${s.ratio.toFixed(2)}×`, 7)} ${pad('≤ 2.2×', 7)} ${s.ratio <= 2.2 ? 'met' : 'MISSED'}`)
}
const load1 = loadavg()
lines.push('', `total ${fmtMs(performance.now() - started)}; load average at the end ${load1.map((x) => x.toFixed(2)).join(' ')}`)
process.stdout.write(`${lines.join('\n')}\n`)
