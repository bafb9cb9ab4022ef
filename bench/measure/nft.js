/**
 * One nftables-mode measurement (issue 15), in a fresh process on the compiled code (dist):
 *   node bench/measure/nft.js DIR CHAINS TABLE trace    parse + a trace (what `knet trace` does)
 *   node bench/measure/nft.js DIR CHAINS TABLE checks   parse + doctor's NAT checks + a trace
 * CHAINS and TABLE are what knet gathers on such a node: `nft -j list chains` and
 * `nft -j list table ip kube-proxy`. The node's evidence is built from them as a snapshot holds
 * them; the cluster model is built before the clock starts (the cluster benchmark's work). The
 * trace is one connection from a pod to the last TCP Service with endpoints, through every hook.
 * Prints one JSON line.
 */
import {performance} from 'node:perf_hooks'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {runChecks} from '../../dist/lib/checks/context.js'
import {CHECKS} from '../../dist/lib/checks/registry.js'
import {serviceNatNode} from '../../dist/lib/datapath/nftables/pipeline.js'
import {buildClusterModel} from '../../dist/lib/model/cluster.js'
import {buildAnalysisModel} from '../../dist/lib/model/model.js'
import {buildNodeDatapath} from '../../dist/lib/model/node.js'

const [dir, chainsFile, tableFile, mode = 'checks'] = process.argv.slice(2)
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'))
const cluster = buildClusterModel(JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')))
const result = (id, argv, stdout) => ({id, argv, execArgv: argv, status: 'ok', exitCode: 0, stdout, stderr: '', durationMs: 0, truncated: false})
const evidence = {
  name: meta.nodeName,
  access: {kind: 'netns', target: meta.nodeName},
  results: [
    result('nft-chains', ['nft', '-j', 'list', 'chains'], readFileSync(chainsFile, 'utf8')),
    result('nft-table:ip:kube-proxy', ['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], readFileSync(tableFile, 'utf8')),
  ],
}
const checks = CHECKS.filter((c) => ['nat-stale-endpoint', 'nat-missing-service', 'nat-orphan-service'].includes(c.id))

const t0 = performance.now()
const node = buildNodeDatapath(evidence)
const t1 = performance.now()
const report = mode === 'trace' ? {findings: [], skipped: []} : runChecks(buildAnalysisModel(cluster, [node]), checks)
const t2 = performance.now()
const packet = {family: 4, src: meta.podIP, dst: meta.target.ip, protocol: 'tcp', dport: meta.target.port, sport: 40000, inIface: meta.bridge, mark: 0, ctstate: 'NEW'}
const nat = serviceNatNode({nft: node.nft}, packet, {localAddresses: new Set([meta.nodeIP])}, {route: () => ({local: false, outIface: 'eth0'})})
const t3 = performance.now()

process.stdout.write(
  `${JSON.stringify({
    parseMs: t1 - t0, checksMs: t2 - t1, traceMs: t3 - t2, totalMs: t3 - t0,
    problems: node.problems.length, findings: report.findings.length, skipped: report.skipped.map((s) => s.reason),
    tracedEndpoints: nat.dnat.length, expectedEndpoints: meta.target.endpoints, maxRssBytes: process.resourceUsage().maxRSS * 1024,
  })}\n`,
)
