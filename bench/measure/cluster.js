/**
 * One cluster measurement, in a fresh process on the compiled code (dist):
 *   node bench/measure/cluster.js parse FILE    the baseline: JSON.parse of the file's text
 *   node bench/measure/cluster.js doctor FILE   doctor's path, through the functions `knet doctor
 *                                               --snapshot FILE` calls: read + validate the snapshot,
 *                                               build the model (releasing the raw objects, as the
 *                                               command does), run every check that needs no node evidence
 *   node --expose-gc bench/measure/cluster.js stages FILE
 *                                               where the memory goes: heap and RSS after each stage
 * Each run is its own process so that its peak RSS (getrusage maxrss) is that work's alone.
 * Prints one JSON line.
 */
import {performance} from 'node:perf_hooks'
import {readFileSync} from 'node:fs'
import {runChecks} from '../../dist/lib/checks/context.js'
import {CHECKS} from '../../dist/lib/checks/registry.js'
import {buildModel} from '../../dist/lib/model/model.js'
import {resolveAnalysisSnapshot} from '../../dist/lib/gather/analysis-source.js'
import {modelTaker} from '../../dist/lib/model/cluster/taken.js'

const [mode, file] = process.argv.slice(2)
const rss = () => process.resourceUsage().maxRSS * 1024

if (mode === 'parse') {
  const text = readFileSync(file, 'utf8')
  const t = performance.now()
  const doc = JSON.parse(text)
  const parseMs = performance.now() - t
  process.stdout.write(`${JSON.stringify({parseMs, items: doc.cluster?.objects?.pods?.length ?? 0, maxRssBytes: rss()})}\n`)
} else if (mode === 'doctor') {
  const checks = CHECKS.filter((c) => !c.requires.some((r) => r.startsWith('node:')))
  const t0 = performance.now()
  // What `knet doctor --snapshot FILE` does (resolveAnalysisModel, then runChecks), step by step so
  // that the time spent modelling objects as they are parsed can be told from reading and parsing.
  const taker = modelTaker()
  let takeMs = 0
  const timedTaker = {
    lists: taker.lists,
    start: () => taker.start(),
    take: (list, object, index) => {
      const t = performance.now()
      taker.take(list, object, index)
      takeMs += performance.now() - t
    },
  }
  const snapshot = await resolveAnalysisSnapshot({snapshot: file, timeoutMs: 30_000, parallel: 10, knetVersion: 'bench', command: 'bench', taker: timedTaker})
  const t1 = performance.now()
  const model = buildModel(snapshot, {release: true, taken: taker.taken()})
  const t2 = performance.now()
  const report = runChecks(model, checks)
  const t3 = performance.now()
  process.stdout.write(
    `${JSON.stringify({
      readMs: t1 - t0 - takeMs, modelMs: t2 - t1 + takeMs, checksMs: t3 - t2, apiChecksMs: t3 - t1 + takeMs, totalMs: t3 - t0,
      checks: checks.length, findings: report.findings.length, pods: model.cluster?.pods.length ?? 0, maxRssBytes: rss(),
    })}\n`,
  )
} else if (mode === 'stages') {
  // Live memory after each step of doctor's path (after a full GC), for BENCHMARKS.md's profile.
  const {readSnapshot} = await import('../../dist/lib/snapshot/read.js')
  const size = (await import('node:fs')).statSync(file).size
  const stages = []
  const mark = (stage) => {
    globalThis.gc?.()
    const m = process.memoryUsage()
    stages.push({stage, heapMB: Math.round(m.heapUsed / 2 ** 20), externalMB: Math.round(m.external / 2 ** 20), rssMB: Math.round(m.rss / 2 ** 20), peakRssMB: Math.round(rss() / 2 ** 20), xFile: +(m.rss / size).toFixed(2)})
  }
  mark('start (modules loaded)')
  const taker = modelTaker()
  const snapshot = await readSnapshot(file, taker)
  mark('read through a 4 MB window, parsed, validated; pods, Services, EndpointSlices modelled as parsed')
  const model = buildModel(snapshot, {release: true, taken: taker.taken()})
  mark('model built (other raw objects released)')
  const report = runChecks(model, CHECKS.filter((c) => !c.requires.some((r) => r.startsWith('node:'))))
  mark(`checks run (${report.findings.length} findings)`)
  process.stdout.write(`${JSON.stringify({fileMB: Math.round(size / 2 ** 20), stages})}\n`)
} else {
  process.stderr.write('usage: cluster.js parse|doctor|stages FILE\n')
  process.exitCode = 2
}
