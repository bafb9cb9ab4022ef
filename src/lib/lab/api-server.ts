/**
 * The lab's API side, run as its own detached process (like the responders) so it outlives
 * `knet lab up`: the stand-in API server on loopback, serving the lab's objects over HTTPS with a
 * bearer token, and a kubeconfig for it. It is a stand-in that speaks the real API's HTTP, not a
 * real kube-apiserver.
 *
 * It also serves pods/exec for the lab's nodes: a hostNetwork pod bound to node-N (knet's node pod
 * with `--node-access pod`) runs commands in that node's namespace (`ip netns exec knetlab-NAME-nN`),
 * and only the commands of knet's catalogue, so the pod path reads the same real state as netns.
 * And for the lab's pods: exec in web-N-P (or in an ephemeral container added to it) runs in that
 * pod's own namespace, and only `trace --probe`'s fixed probe commands, so a probe through the API
 * sends the same real packet the lab's prober does.
 *
 * argv: --knetlab-marker MARKER OBJECTS_FILE KUBECONFIG_PATH
 * Prints "ready URL" once listening; `down` stops it by pid after checking the marker.
 */
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {basename, dirname} from 'node:path'
import {netnsExecHook} from '../apiserver/exec-netns.js'
import {startApiServer} from '../apiserver/server.js'
import {isCatalogArgv} from '../gather/node/catalog.js'
import {isProbeArgv} from '../trace/probe-exec-argv.js'
import {isLabNamespace, MAX_NODES, nodeName, planLab} from './plan.js'
import {readLabState} from './state.js'

async function main(): Promise<void> {
  const [, , , marker, objectsFile, kubeconfig] = process.argv
  if (!marker || !objectsFile || !kubeconfig) throw new Error('usage: api-server --knetlab-marker MARKER OBJECTS_FILE KUBECONFIG')
  const list = JSON.parse(await readFile(objectsFile, 'utf8')) as {items?: unknown[]}
  const token = randomBytes(24).toString('hex')
  const exec = netnsExecHook({
    netnsFor: nodeNetns(marker),
    podNetnsFor: await podNetns(marker, objectsFile),
    // Node pods run knet's catalogue, and trace --probe's templates for a node source; workload pods only the probe's.
    allow: (argv, ctx) => ((ctx.pod.spec as {hostNetwork?: unknown} | undefined)?.hostNetwork === true ? isCatalogArgv(argv) || isProbeArgv(argv) : isProbeArgv(argv)),
  })
  const server = await startApiServer({objects: list.items ?? [], tls: 'self-signed', token, user: 'knet-lab', exec})
  server.writeKubeconfig(kubeconfig, {token, cluster: 'knet-lab', user: 'knet-lab', context: 'knet-lab'})
  process.stdout.write(`ready ${server.url}\n`)
  const stop = (): void => void server.close().finally(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

/** node-N is played by the namespace MARKER + nN (the marker is the lab's prefix, see plan.ts). */
function nodeNetns(marker: string): (node: string) => string | undefined {
  if (!/^knetlab-[a-z0-9-]+-$/.test(marker)) throw new Error(`not a lab marker: ${marker}`)
  const byName = new Map<string, string>()
  for (let i = 1; i <= MAX_NODES; i++) byName.set(nodeName(i), `${marker}n${i}`)
  return (node) => byName.get(node)
}

/** The lab's pods → their namespaces, from the lab's plan (its state file sits next to the lab's directory, which holds OBJECTS_FILE). */
async function podNetns(marker: string, objectsFile: string): Promise<(namespace: string, name: string) => string | undefined> {
  const dir = dirname(objectsFile)
  const name = /^lab-(.+)$/.exec(basename(dir))?.[1]
  const state = name ? await readLabState(name, dirname(dir)).catch(() => undefined) : undefined
  if (!name || !state || marker !== `knetlab-${name}-`) return () => undefined
  const byPod = new Map(planLab(state.params).pods.filter((p) => isLabNamespace(name, p.netns)).map((p) => [`${p.namespace}/${p.name}`, p.netns]))
  return (namespace, pod) => byPod.get(`${namespace}/${pod}`)
}

main().catch((error: unknown) => {
  process.stdout.write(`error ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
