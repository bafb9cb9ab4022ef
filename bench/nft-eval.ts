/**
 * kube-proxy nftables mode at scale (issue 15): the ruleset kube-proxy v1.36 writes for a worker of
 * the synthetic cluster (bench/generators/kube-proxy.ts, S Services × E endpoints), loaded with
 * `nft -f` into a fresh namespace; baseline `nft -j list table ip kube-proxy` (and `nft list table`);
 * measured in-process: parse + trace of one connection (the last Service), and parse + doctor's NAT
 * checks + trace. Needs root.   npx tsx bench/nft-eval.ts [services] [endpoints] [runs]
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {performance} from 'node:perf_hooks'
import {natFixture} from './generators/kube-proxy.js'
import {clusterEvidence} from './generators/cluster.js'
import {kubeProxyNftRules} from '../src/lib/lab/kube-proxy-nft-rules.js'
import {parseNftJson} from '../src/lib/parse/nft.js'
import {serviceNatNode} from '../src/lib/datapath/nftables/pipeline.js'
import {buildAnalysisModel} from '../src/lib/model/model.js'
import {buildNodeDatapath} from '../src/lib/model/node.js'
import {buildClusterModel} from '../src/lib/model/cluster.js'
import {runChecks} from '../src/lib/checks/context.js'
import {CHECKS} from '../src/lib/checks/registry.js'

const [S = 10_000, E = 3, RUNS = 5] = process.argv.slice(2).map(Number)
const fx = natFixture({services: S, endpoints: E})
const text = kubeProxyNftRules(fx.model, {nodeIPs: ['10.0.0.1']})
const ns = `knetbnft${process.pid}`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number
execFileSync('ip', ['netns', 'add', ns])
try {
  let t = performance.now()
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {input: text, maxBuffer: 1 << 30})
  const loadMs = performance.now() - t
  const base = (argv: string[]) => {
    const times: number[] = []
    let out = ''
    for (let i = 0; i < RUNS; i++) {
      t = performance.now()
      out = spawnSync('ip', ['netns', 'exec', ns, ...argv], {encoding: 'utf8', maxBuffer: 1 << 30}).stdout
      times.push(performance.now() - t)
    }
    return {ms: median(times), out}
  }
  const json = base(['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'])
  const plain = base(['nft', 'list', 'table', 'ip', 'kube-proxy'])
  const cluster = buildClusterModel(clusterEvidence(fx.objects) as never)
  const svc = fx.model.services.filter((s) => s.endpoints.some((e) => e.ready !== false) && s.ports[0]?.protocol === 'TCP').at(-1)
  const natChecks = CHECKS.filter((c) => ['nat-stale-endpoint', 'nat-missing-service', 'nat-orphan-service'].includes(c.id))
  const traceMs: number[] = []
  const allMs: number[] = []
  let endpoints = 0
  let findings = -1
  for (let i = 0; i < RUNS; i++) {
    t = performance.now()
    const rs = parseNftJson(json.out).value
    const r = serviceNatNode({nft: rs}, {family: 4, src: '10.128.0.5', dst: svc?.clusterIP ?? '', protocol: 'tcp', dport: svc?.ports[0]?.port ?? 80, sport: 40000, inIface: 'cni0', mark: 0, ctstate: 'NEW'}, {localAddresses: new Set(['10.0.0.1'])}, {route: () => ({local: false, outIface: 'eth0'})})
    traceMs.push(performance.now() - t)
    endpoints = r.dnat.length
    t = performance.now()
    const node = buildNodeDatapath({name: fx.nodeName, access: 'local', results: [{id: 'nft', argv: ['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], status: 'ok', exitCode: 0, stdout: json.out, stderr: '', durationMs: 0, truncated: false}]} as never)
    const report = runChecks(buildAnalysisModel(cluster, [node]), natChecks)
    serviceNatNode({nft: node.nft as never}, {family: 4, src: '10.128.0.5', dst: svc?.clusterIP ?? '', protocol: 'tcp', dport: svc?.ports[0]?.port ?? 80, sport: 40000, inIface: 'cni0', mark: 0, ctstate: 'NEW'}, {localAddresses: new Set(['10.0.0.1'])}, {route: () => ({local: false, outIface: 'eth0'})})
    allMs.push(performance.now() - t)
    findings = report.findings.length
    if (i === 0) for (const x of report.findings.slice(0, 3)) console.log(x.check, x.message)
  }
  const f = (ms: number) => `${ms.toFixed(0)} ms`
  console.log(`${S} Services × ${E}: nft -f ${f(loadMs)}; JSON ${(json.out.length / 1e6).toFixed(1)} MB`)
  console.log(`baseline nft -j list table: ${f(json.ms)}; nft list table: ${f(plain.ms)}`)
  console.log(`parse + trace: ${f(median(traceMs))} (${(median(traceMs) / plain.ms).toFixed(2)}× nft list table, ${(median(traceMs) / json.ms).toFixed(2)}× nft -j); endpoints ${endpoints}`)
  console.log(`parse + NAT checks + trace: ${f(median(allMs))} (${(median(allMs) / plain.ms).toFixed(2)}× nft list table, ${(median(allMs) / json.ms).toFixed(2)}× nft -j); findings ${findings}`)
} finally {
  execFileSync('ip', ['netns', 'del', ns])
}
