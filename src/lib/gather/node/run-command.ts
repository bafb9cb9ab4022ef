import type {CommandResult} from '../../snapshot/schema.js'
import type {CatalogCommand} from './catalog.js'
import type {ExecOutcome, NodeTransport} from './transport.js'

// Permission problems are failures to report (run as root), never "this node does not have it".
const PERMISSION = /(Permission denied|Operation not permitted|you must be root)/i

/** Run one catalogue command and classify the outcome; raw output is always kept. */
export async function runCommand(transport: NodeTransport, command: CatalogCommand, signal?: AbortSignal): Promise<CommandResult> {
  let outcome: ExecOutcome
  try {
    outcome = await transport.exec(command, signal)
  } catch (error) {
    return {
      id: command.id,
      argv: [...command.argv],
      execArgv: [...command.argv],
      status: 'failed',
      reason: `could not start: ${(error as Error).message.split('\n')[0]}`,
      exitCode: null,
      stdout: '',
      stderr: '',
      durationMs: 0,
      truncated: false,
    }
  }
  const {status, reason} = classify(command, outcome)
  return {
    id: command.id,
    argv: [...command.argv],
    execArgv: outcome.execArgv,
    status,
    ...(reason === undefined ? {} : {reason}),
    exitCode: outcome.exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    durationMs: outcome.durationMs,
    truncated: outcome.truncated,
  }
}

export function classify(command: CatalogCommand, outcome: ExecOutcome): {status: CommandResult['status']; reason?: string} {
  const binary = command.argv[0] ?? '?'
  if (outcome.notFound) return {status: 'unavailable', reason: `${binary} is not installed`}
  if (outcome.timedOut) return {status: 'timeout', reason: `timed out after ${command.timeoutMs} ms`}
  // A capped output is still evidence: keep it, flag it, let the parser read what is there.
  if (outcome.truncated) return {status: 'ok', reason: `output cut at ${command.maxBytes} bytes`}
  if (outcome.error) return {status: 'failed', reason: outcome.error}
  const okCodes = command.okExitCodes ?? [0]
  if (outcome.exitCode !== null && okCodes.includes(outcome.exitCode)) {
    return {status: 'ok'}
  }
  const firstErr = outcome.stderr.split('\n').find((l) => l.trim())?.trim() ?? ''
  if (PERMISSION.test(outcome.stderr)) return {status: 'failed', reason: `permission denied: ${firstErr}`}
  if (command.unavailableWhen?.test(outcome.stderr)) return {status: 'unavailable', reason: firstErr || 'not available on this node'}
  return {status: 'failed', reason: `exit ${outcome.exitCode ?? 'signal'}${firstErr ? `: ${firstErr}` : ''}`}
}
