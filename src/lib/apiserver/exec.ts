/**
 * The pods/exec subresource over WebSocket, framed as kube-apiserver frames it for the
 * v4.channel.k8s.io and v5.channel.k8s.io subprotocols: every binary message starts with a channel
 * byte — 0 stdin, 1 stdout, 2 stderr, 3 status (a Status object: Success, or Failure with reason
 * NonZeroExitCode and the exit code in details.causes), 4 resize — and v5 adds 255 "close", which
 * the client sends as [255, 0] to end stdin. As the real server does, this one never sends close
 * frames itself: it ends a session with the status message and a WebSocket close. (client-node's
 * handler would also end process.stdout on a close frame for channel 1.)
 *
 * What a command does is the exec hook's business: tests and the lab run it inside the node's
 * network namespace, so the evidence knet reads through a "pod" is real.
 */
import type {IncomingMessage} from 'node:http'
import {PassThrough, type Readable} from 'node:stream'
import type {Duplex} from 'node:stream'
import {WebSocketServer, type RawData, type WebSocket} from 'ws'

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number]

const STDIN = 0
const STDOUT = 1
const STDERR = 2
const STATUS = 3
const CLOSE = 255

export interface ExecContext {
  namespace: string
  /** The pod as stored (metadata, spec, status). */
  pod: Record<string, unknown>
  /** spec.nodeName. */
  node?: string
  container: string
  /** The container is an ephemeral one (added through pods/NAME/ephemeralcontainers). */
  ephemeral: boolean
  command: string[]
  /** The client's stdin when it asked for one (ended by a v5 close frame or the socket closing). */
  stdin: Readable | null
  stdout(chunk: Buffer): void
  stderr(chunk: Buffer): void
  /** Aborted when the client goes away: stop the command. */
  signal: AbortSignal
}

/** A command that ran (its exit code), or one that could not start (the runtime's message). */
export type ExecResult = {exitCode: number} | {error: string}
export type ExecHook = (ctx: ExecContext) => Promise<ExecResult>

export interface ExecRequest {
  namespace: string
  pod: Record<string, unknown>
  container: string
  ephemeral: boolean
  command: string[]
  stdin: boolean
  protocol: ExecProtocol
}

/** Pick the subprotocol as the server does: the client's first offer that the server speaks. */
export function chooseProtocol(header: string | undefined, served: readonly string[]): ExecProtocol | undefined {
  const offered = (header ?? '').split(',').map((p) => p.trim()).filter(Boolean)
  return offered.find((p): p is ExecProtocol => served.includes(p) && (EXEC_PROTOCOLS as readonly string[]).includes(p))
}

/** The WebSocket side of one API server, speaking the subprotocols it was configured with. */
export function execServer(served: readonly string[]): WebSocketServer {
  return new WebSocketServer({noServer: true, perMessageDeflate: false, handleProtocols: (offered) => chooseProtocol([...offered].join(','), served) ?? false})
}

/** Upgrade the request and run the session; resolves when the session is over. */
export function runExecSession(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, exec: ExecRequest, hook: ExecHook | undefined): Promise<void> {
  return new Promise((resolve) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      void session(ws, exec, hook).finally(resolve)
    })
  })
}

async function session(ws: WebSocket, exec: ExecRequest, hook: ExecHook | undefined): Promise<void> {
  const controller = new AbortController()
  const stdin = exec.stdin ? new PassThrough() : null
  ws.on('close', () => {
    controller.abort()
    stdin?.end()
  })
  ws.on('error', () => controller.abort())
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    if (!isBinary || buf.length === 0) return
    const channel = buf[0]
    if (channel === STDIN) stdin?.write(buf.subarray(1))
    else if (channel === CLOSE && exec.protocol === 'v5.channel.k8s.io' && buf[1] === STDIN) stdin?.end()
  })
  const send = (channel: number, chunk: Buffer): void => {
    if (ws.readyState === ws.OPEN && chunk.length > 0) ws.send(Buffer.concat([Buffer.from([channel]), chunk]))
  }
  let result: ExecResult
  try {
    result = hook
      ? await hook({
          namespace: exec.namespace,
          pod: exec.pod,
          node: typeof (exec.pod.spec as {nodeName?: unknown} | undefined)?.nodeName === 'string' ? ((exec.pod.spec as {nodeName: string}).nodeName) : undefined,
          container: exec.container,
          ephemeral: exec.ephemeral,
          command: exec.command,
          stdin,
          stdout: (c) => send(STDOUT, c),
          stderr: (c) => send(STDERR, c),
          signal: controller.signal,
        })
      : {error: 'exec is not configured on this stand-in server'}
  } catch (error) {
    result = {error: error instanceof Error ? error.message : String(error)}
  }
  if (ws.readyState !== ws.OPEN) return
  send(STATUS, Buffer.from(JSON.stringify(execStatus(exec.command, result))))
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve())
    ws.close(1000)
    // A client that never answers the close handshake is cut off.
    setTimeout(() => {
      ws.terminate()
      resolve()
    }, 2000).unref()
  })
}

/** The Status the kubelet writes on the status channel. */
export function execStatus(command: string[], result: ExecResult): Record<string, unknown> {
  if ('error' in result) {
    return {metadata: {}, status: 'Failure', message: `Internal error occurred: ${result.error}`, reason: 'InternalError', details: {causes: [{message: result.error}]}, code: 500}
  }
  if (result.exitCode === 0) return {metadata: {}, status: 'Success'}
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${result.exitCode}`,
    reason: 'NonZeroExitCode',
    details: {causes: [{reason: 'ExitCode', message: String(result.exitCode)}]},
  }
}
