/**
 * Time and peak memory of gathering a large cluster through the stand-in API server, in pages.
 *   npx tsx bench/cluster-gather.ts [nodes] [pods] [services] [pageSize]
 * Defaults: 2,000 nodes / 60,000 pods / 5,000 Services, pages of 500, over HTTPS with a token.
 * The server runs in a child process so that the peak RSS reported is knet's alone.
 */
import {fork} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {generateCluster} from '../src/lib/apiserver/generate.js'
import {startApiServer} from '../src/lib/apiserver/server.js'
import {gatherCluster} from '../src/lib/gather/cluster/gather.js'
import {buildClusterModel} from '../src/lib/model/cluster.js'

const args = process.argv.slice(2)
const serveMode = args[0] === '--serve'
const [nodes = 2000, pods = 60_000, services = 5000, pageSize = 500] = (serveMode ? args.slice(1) : args).map(Number)
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MB`

if (serveMode) {
  // Child: build and serve the cluster, report where, then serve until told to stop.
  const t = performance.now()
  const server = await startApiServer({objects: generateCluster({nodes, pods, services, seed: 42}), tls: 'self-signed', token: 'bench'})
  const dir = mkdtempSync(join(tmpdir(), 'knet-bench-'))
  const kubeconfig = server.writeKubeconfig(join(dir, 'kubeconfig'))
  process.send?.({kubeconfig, setupMs: Math.round(performance.now() - t)})
  process.on('message', async () => {
    const requests = server.requests.filter((r) => r.query.limit !== undefined).length
    const connections = server.connections()
    await server.close()
    rmSync(dir, {recursive: true, force: true})
    process.send?.({requests, connections, serverPeakRss: mb(process.resourceUsage().maxRSS * 1024)}, () => process.exit(0))
  })
} else {
  const child = fork(import.meta.filename, ['--serve', String(nodes), String(pods), String(services)], {execArgv: process.execArgv})
  const messages: Record<string, unknown>[] = []
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const queued = messages.shift()
      if (queued) return resolve(queued)
      child.once('message', (m) => resolve(m as Record<string, unknown>))
    })
  const ready = await next()
  const kubeconfig = ready.kubeconfig as string

  let peak = process.memoryUsage.rss()
  const rssBefore = peak
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10)
  let t = performance.now()
  const evidence = await gatherCluster({kubeconfig, timeoutMs: 60_000, pageSize})
  const gatherMs = performance.now() - t
  t = performance.now()
  const model = buildClusterModel(evidence)
  const modelMs = performance.now() - t
  peak = Math.max(peak, process.memoryUsage.rss())
  clearInterval(sampler)
  child.send('stop')
  const server = await next()

  console.log(
    JSON.stringify(
      {
        cluster: {nodes, pods, services},
        pageSize,
        serverSetupMs: ready.setupMs,
        gatherMs: Math.round(gatherMs),
        modelMs: Math.round(modelMs),
        listRequests: server.requests,
        tlsConnections: server.connections,
        gathered: Object.fromEntries(Object.entries(evidence.objects).map(([k, v]) => [k, Array.isArray(v) ? v.length : v === null ? 0 : 1])),
        modelCounts: {nodes: model.nodes.length, pods: model.pods.length, services: model.services.length, endpointSlices: model.endpointSlices.length},
        knetRssBeforeGather: mb(rssBefore),
        knetPeakRss: mb(peak),
        knetMaxRss: mb(process.resourceUsage().maxRSS * 1024),
        serverPeakRss: server.serverPeakRss,
      },
      null,
      2,
    ),
  )
}
