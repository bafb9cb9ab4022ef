/**
 * doctor's API-level checks on a large synthetic cluster, against JSON.parse of the same snapshot.
 *   npx tsx bench/doctor-api.ts [nodes] [pods] [services]
 * A per-check breakdown; `npm run bench -- cluster` (bench/run.js) gives the figures of record.
 * Defaults: 5,000 nodes / 150,000 pods / 10,000 Services (issue 8's targets: checks ≤ 3× JSON.parse
 * time, RSS ≤ 4× the file size). "Checks" = buildModel (cluster model + indexes) + every check that
 * needs no node evidence; the snapshot has no node evidence, so node checks only record a skip.
 * The snapshot is written and read in a child process so the RSS reported is doctor's alone.
 */
import {fork} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runChecks} from '../src/lib/checks/context.js'
import {CHECKS} from '../src/lib/checks/registry.js'
import {buildModel} from '../src/lib/model/model.js'
import {decodeSnapshot} from '../src/lib/snapshot/read.js'
import {clusterSnapshot} from './generators/cluster.js'

const args = process.argv.slice(2)
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MB`
const ms = (n: number): string => `${n.toFixed(0)} ms`
const API_CHECKS = CHECKS.filter((c) => !c.requires.some((r) => r.startsWith('node:')))

if (args[0] === '--parse-only') {
  // Baseline: what reading the file and JSON.parse alone cost, in time and memory.
  const text = readFileSync(args[1] as string, 'utf8')
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    JSON.parse(text)
    times.push(performance.now() - t)
  }
  const rssOnce = process.resourceUsage().maxRSS * 1024
  process.send?.({parseMs: Math.min(...times), rss: rssOnce})
} else if (args[0] === '--measure') {
  // doctor's path: read + validate the snapshot, build the model and indexes, run the API checks.
  const file = args[1] as string
  const t0 = performance.now()
  const snapshot = decodeSnapshot(readFileSync(file), file)
  const decodeMs = performance.now() - t0
  const t1 = performance.now()
  const model = buildModel(snapshot)
  const modelMs = performance.now() - t1
  const perCheck: Record<string, number> = {}
  for (const c of API_CHECKS) {
    const t = performance.now()
    runChecks(model, [c])
    perCheck[c.id] = Math.round(performance.now() - t)
  }
  const t2 = performance.now()
  const fresh = buildModel(snapshot)
  const report = runChecks(fresh, API_CHECKS)
  const checksMs = performance.now() - t2
  const counts = Object.fromEntries(API_CHECKS.map((c) => [c.id, report.findings.filter((f) => f.check === c.id).length]))
  process.send?.({decodeMs, modelMs, perCheck, checksMs, rss: process.resourceUsage().maxRSS * 1024, findings: counts, skipped: report.skipped.map((x) => x.reason)})
} else {
  const [nodes = 5000, pods = 150_000, services = 10_000] = args.map(Number)
  const dir = mkdtempSync(join(tmpdir(), 'knet-doctor-bench-'))
  const file = join(dir, 'snapshot.json')
  const t = performance.now()
  const snapshot = clusterSnapshot({nodes, pods, services})
  writeFileSync(file, JSON.stringify(snapshot))
  const size = statSync(file).size
  console.log(`generated ${nodes} nodes / ${pods} pods / ${services} Services → ${mb(size)} snapshot in ${ms(performance.now() - t)}`)
  const inChild = async <T>(mode: string): Promise<T> => {
    const child = fork(new URL(import.meta.url).pathname, [mode, file], {execArgv: process.execArgv})
    const result = await new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)))
    child.kill()
    return result
  }
  const base = await inChild<{parseMs: number; rss: number}>('--parse-only')
  const r = await inChild<{decodeMs: number; modelMs: number; perCheck: Record<string, number>; checksMs: number; rss: number; findings: Record<string, number>; skipped: string[]}>('--measure')
  rmSync(dir, {recursive: true, force: true})
  console.log(`JSON.parse (best of 3)          ${ms(base.parseMs)}   peak RSS ${mb(base.rss)} = ${(base.rss / size).toFixed(2)}× file size`)
  console.log(`readSnapshot (parse + schema)   ${ms(r.decodeMs)}`)
  console.log(`model + ${API_CHECKS.length} API checks           ${ms(r.checksMs)}  = ${(r.checksMs / base.parseMs).toFixed(2)}× JSON.parse (target ≤ 3×)`)
  console.log(`  of which buildModel ${ms(r.modelMs)}; per check (shared indexes built by the first user): ${JSON.stringify(r.perCheck)}`)
  console.log(`whole doctor path               ${ms(r.decodeMs + r.checksMs)}  = ${((r.decodeMs + r.checksMs) / base.parseMs).toFixed(2)}× JSON.parse`)
  console.log(`peak RSS, whole doctor path     ${mb(r.rss)} = ${(r.rss / size).toFixed(2)}× file size (target ≤ 4×)`)
  console.log(`findings per check: ${JSON.stringify(r.findings)}; skipped: ${JSON.stringify(r.skipped)}`)
}
