/**
 * One NAT measurement, in a fresh process on the compiled code (dist), as `knet doctor` would run:
 *   node bench/measure/nat.js DIR DUMP           doctor + trace: parse, doctor's NAT checks, a trace
 *   node bench/measure/nat.js DIR DUMP trace     trace alone: parse, a trace (what `knet trace` does with the dump)
 * Times what knet does with one node's iptables-save text: parse it (the node datapath), doctor's
 * checks that read it (kube-proxy NAT against the EndpointSlices, FORWARD policy, kube-proxy mode;
 * not in `trace` mode), and a trace of one connection to a Service through the netfilter evaluator.
 * The cluster model is built before the clock starts: it is the cluster benchmark's work, shared by
 * every node. Prints one JSON line.
 */
import {performance} from 'node:perf_hooks'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {runChecks} from '../../dist/lib/checks/context.js'
import {CHECKS} from '../../dist/lib/checks/registry.js'
import {serviceNat} from '../../dist/lib/datapath/netfilter/service-nat.js'
import {buildClusterModel} from '../../dist/lib/model/cluster.js'
import {buildAnalysisModel} from '../../dist/lib/model/model.js'
import {buildNodeDatapath} from '../../dist/lib/model/node.js'

const [dir, dumpFile, mode = 'doctor'] = process.argv.slice(2)
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'))
const cluster = buildClusterModel(JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')))
const text = readFileSync(dumpFile, 'utf8')
const checks = CHECKS.filter((c) => c.requires.includes('node:iptables-save'))
const evidence = {
  name: meta.nodeName,
  access: {kind: 'netns', target: meta.nodeName},
  results: [{id: 'iptables-save', argv: ['iptables-save'], execArgv: ['iptables-save'], status: 'ok', exitCode: 0, stdout: text, stderr: '', durationMs: 0, truncated: false}],
}

const t0 = performance.now()
const node = buildNodeDatapath(evidence)
const t1 = performance.now()
const report = mode === 'trace' ? {findings: [], skipped: []} : runChecks(buildAnalysisModel(cluster, [node]), checks)
const t2 = performance.now()
const packet = {family: 4, src: meta.podIP, dst: meta.target.ip, protocol: 'tcp', dport: meta.target.port, inIface: meta.bridge, mark: 0, ctstate: 'NEW'}
const nat = serviceNat(node.iptables4, packet, {localAddresses: new Set([meta.nodeIP])})
const t3 = performance.now()

process.stdout.write(
  `${JSON.stringify({
    parseMs: t1 - t0, checksMs: t2 - t1, traceMs: t3 - t2, totalMs: t3 - t0,
    problems: node.problems.length, findings: report.findings.length, skipped: report.skipped.map((s) => s.reason),
    tracedEndpoints: nat.dnat.length, expectedEndpoints: meta.target.endpoints, maxRssBytes: process.resourceUsage().maxRSS * 1024,
  })}\n`,
)
