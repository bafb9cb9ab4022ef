/**
 * The path from knet in the host's root namespace to a real lab's API server in the lab's router
 * namespace, without adding anything to the root namespace but a loopback listener: two of these
 * processes joined by a unix socket in the lab's directory (filesystem sockets cross network
 * namespaces).
 *
 *   relay.js --knetlab-marker M unix-to-tcp SOCKET HOST PORT   (router namespace: socket → API server)
 *   relay.js --knetlab-marker M tcp-to-unix SOCKET             (root namespace: 127.0.0.1:free port → socket)
 *
 * Prints "ready ADDRESS" once listening; `down` stops it by pid after checking the marker.
 */
import {rmSync} from 'node:fs'
import {createConnection, createServer, type Socket} from 'node:net'

function pipe(a: Socket, b: Socket): void {
  a.pipe(b)
  b.pipe(a)
  const close = (): void => {
    a.destroy()
    b.destroy()
  }
  a.on('error', close)
  b.on('error', close)
  a.on('close', close)
  b.on('close', close)
}

function main(argv: string[]): void {
  const args = [...argv]
  if (args[0] === '--knetlab-marker') args.splice(0, 2)
  const [mode, socketPath, host, port] = args
  if (mode === 'unix-to-tcp' && socketPath && host && port) {
    rmSync(socketPath, {force: true})
    const server = createServer((client) => pipe(client, createConnection({host, port: Number(port)})))
    server.listen(socketPath, () => process.stdout.write(`ready ${socketPath}\n`))
    stopOn(() => server.close())
    return
  }
  if (mode === 'tcp-to-unix' && socketPath) {
    const server = createServer((client) => pipe(client, createConnection(socketPath)))
    server.listen({host: '127.0.0.1', port: 0}, () => {
      const address = server.address()
      if (address && typeof address === 'object') process.stdout.write(`ready 127.0.0.1:${address.port}\n`)
    })
    stopOn(() => server.close())
    return
  }
  process.stderr.write('usage: relay.js --knetlab-marker M unix-to-tcp SOCKET HOST PORT | tcp-to-unix SOCKET\n')
  process.exit(2)
}

function stopOn(close: () => void): void {
  const stop = (): void => {
    close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main(process.argv.slice(2))
