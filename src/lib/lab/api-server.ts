/**
 * The lab's API side, run as its own detached process (like the responders) so it outlives
 * `knet lab up`: the stand-in API server on loopback, serving the lab's objects over HTTPS with a
 * bearer token, and a kubeconfig for it. It is a stand-in that speaks the real API's HTTP, not a
 * real kube-apiserver.
 *
 * argv: --knetlab-marker MARKER OBJECTS_FILE KUBECONFIG_PATH
 * Prints "ready URL" once listening; `down` stops it by pid after checking the marker.
 */
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {startApiServer} from '../apiserver/server.js'

async function main(): Promise<void> {
  const [, , , , objectsFile, kubeconfig] = process.argv
  if (!objectsFile || !kubeconfig) throw new Error('usage: api-server --knetlab-marker MARKER OBJECTS_FILE KUBECONFIG')
  const list = JSON.parse(await readFile(objectsFile, 'utf8')) as {items?: unknown[]}
  const token = randomBytes(24).toString('hex')
  const server = await startApiServer({objects: list.items ?? [], tls: 'self-signed', token, user: 'knet-lab'})
  server.writeKubeconfig(kubeconfig, {token, cluster: 'knet-lab', user: 'knet-lab', context: 'knet-lab'})
  process.stdout.write(`ready ${server.url}\n`)
  const stop = (): void => void server.close().finally(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((error: unknown) => {
  process.stdout.write(`error ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
