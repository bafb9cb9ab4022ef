/**
 * What bench/measure/nat.js and nft.js share: one node's evidence as a snapshot holds it, the
 * cluster model built before the clock starts (the cluster benchmark's work, shared by every node),
 * then parse → checks → one trace timed, and the one JSON line the runner reads.
 */
import {performance} from 'node:perf_hooks'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {runChecks} from '../../dist/lib/checks/context.js'
import {buildClusterModel} from '../../dist/lib/model/cluster.js'
import {buildAnalysisModel} from '../../dist/lib/model/model.js'
import {buildNodeDatapath} from '../../dist/lib/model/node.js'

/** The generated case's meta.json and its cluster model. */
export function loadCase(dir) {
  return {meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')), cluster: buildClusterModel(JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')))}
}

/** One command's result as the snapshot stores it. */
export function commandResult(id, argv, stdout) {
  return {id, argv, execArgv: argv, status: 'ok', exitCode: 0, stdout, stderr: '', durationMs: 0, truncated: false}
}

/** The pod → Service connection each benchmark traces: from a pod to the case's target Service. */
export function tracedPacket(meta) {
  return {family: 4, src: meta.podIP, dst: meta.target.ip, protocol: 'tcp', dport: meta.target.port, inIface: meta.bridge, mark: 0, ctstate: 'NEW'}
}

/**
 * Times parse (the node datapath from `results`), the checks (none with `checks` null) and
 * `trace(node)` (which returns the DNAT branches it found), and prints the JSON line.
 */
export function measureNode({meta, cluster}, results, checks, trace) {
  const t0 = performance.now()
  const node = buildNodeDatapath({name: meta.nodeName, access: {kind: 'netns', target: meta.nodeName}, results})
  const t1 = performance.now()
  const report = checks === null ? {findings: [], skipped: []} : runChecks(buildAnalysisModel(cluster, [node]), checks)
  const t2 = performance.now()
  const nat = trace(node)
  const t3 = performance.now()
  process.stdout.write(
    `${JSON.stringify({
      parseMs: t1 - t0, checksMs: t2 - t1, traceMs: t3 - t2, totalMs: t3 - t0,
      problems: node.problems.length, findings: report.findings.length, skipped: report.skipped.map((s) => s.reason),
      tracedEndpoints: nat.dnat.length, expectedEndpoints: meta.target.endpoints, maxRssBytes: process.resourceUsage().maxRSS * 1024,
    })}\n`,
  )
}
