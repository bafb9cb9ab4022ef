/**
 * A pod's workload in the lab: real TCP and UDP listeners that answer with the pod's name, so a
 * probe learns which pod a Service really sent it to. Runs as its own process inside the pod's
 * namespace (`ip netns exec POD node responder.js --knetlab-marker PREFIX NAME tcp:8080 udp:5353`);
 * the marker lets `down` recognise it before signalling it. Prints "ready" once every port listens.
 */
import {createSocket} from 'node:dgram'
import {createServer} from 'node:net'

function main(argv: string[]): void {
  const args = [...argv]
  if (args[0] === '--knetlab-marker') args.splice(0, 2)
  const [name, ...specs] = args
  if (!name || specs.length === 0) {
    process.stderr.write('usage: responder.js --knetlab-marker PREFIX NAME tcp:PORT|udp:PORT…\n')
    process.exit(2)
  }
  const answer = `${name}\n`
  let pending = specs.length
  const listening = (): void => {
    pending -= 1
    if (pending === 0) process.stdout.write(`ready ${name} ${specs.join(' ')}\n`)
  }
  for (const spec of specs) {
    const [proto, portText] = spec.split(':')
    const port = Number(portText)
    if (proto === 'tcp') listenTcp(port, answer, true, listening)
    else if (proto === 'udp') listenUdp(port, answer, true, listening)
    else {
      process.stderr.write(`unknown listener ${spec}\n`)
      process.exit(2)
    }
  }
}

/**
 * Both families on one socket ("::", not IPv6-only), so IPv4, dual-stack and IPv6-only pods run the
 * same responder; where IPv6 is unavailable (disabled in the namespace) it falls back to 0.0.0.0.
 */
function listenTcp(port: number, answer: string, dual: boolean, listening: () => void): void {
  const server = createServer((socket) => {
    socket.on('error', () => undefined)
    socket.end(answer)
  })
  server.once('error', (error: NodeJS.ErrnoException) => {
    if (dual && (error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL')) listenTcp(port, answer, false, listening)
    else process.stderr.write(`tcp ${port}: ${error.message}\n`)
  })
  server.listen({port, host: dual ? '::' : '0.0.0.0', ipv6Only: false}, listening)
}

function listenUdp(port: number, answer: string, dual: boolean, listening: () => void): void {
  const socket = createSocket({type: dual ? 'udp6' : 'udp4', ipv6Only: false})
  let bound = false
  socket.on('message', (_msg, rinfo) => socket.send(answer, rinfo.port, rinfo.address))
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (!bound && dual && (error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL')) {
      socket.close()
      listenUdp(port, answer, false, listening)
    } else process.stderr.write(`udp ${port}: ${error.message}\n`)
  })
  socket.bind(port, dual ? '::' : '0.0.0.0', () => {
    bound = true
    listening()
  })
}

main(process.argv.slice(2))
