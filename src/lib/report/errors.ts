/**
 * Every failure a user can see is normalised here into a few kinds, each with a one-line message,
 * a suggestion and an exit code. Commands never print raw exceptions; --debug adds the cause.
 */
import {ExitCode} from './exit-codes.js'

export type ErrorKind =
  | 'bad-input'
  | 'unreachable'
  | 'tls'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'timeout'
  | 'unsupported'
  | 'command-failed'
  | 'internal'

const EXIT_BY_KIND: Record<ErrorKind, ExitCode> = {
  'bad-input': ExitCode.Usage,
  unsupported: ExitCode.Usage,
  unreachable: ExitCode.Gather,
  tls: ExitCode.Gather,
  unauthorized: ExitCode.Gather,
  forbidden: ExitCode.Gather,
  'not-found': ExitCode.Gather,
  timeout: ExitCode.Gather,
  'command-failed': ExitCode.Gather,
  internal: ExitCode.Gather,
}

export interface KnetErrorOptions {
  suggestion?: string
  cause?: unknown
  /** For forbidden: the verb and resource the server refused. */
  verb?: string
  resource?: string
}

export class KnetError extends Error {
  readonly kind: ErrorKind
  readonly suggestion?: string
  readonly verb?: string
  readonly resource?: string
  readonly exitCode: ExitCode

  constructor(kind: ErrorKind, message: string, options: KnetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'KnetError'
    this.kind = kind
    this.suggestion = options.suggestion
    this.verb = options.verb
    this.resource = options.resource
    this.exitCode = EXIT_BY_KIND[kind]
  }

  /** The single line a user sees, suggestion included. */
  oneLine(): string {
    const text = this.message.replace(/\s*\n\s*/g, ' ').trim()
    return this.suggestion ? `${text} (${this.suggestion})` : text
  }
}

export function badInput(message: string, suggestion?: string, cause?: unknown): KnetError {
  return new KnetError('bad-input', message, {suggestion, cause})
}

/** Turn anything thrown into a KnetError; unknown exceptions become 'internal' with their message only. */
export function normaliseError(error: unknown): KnetError {
  if (error instanceof KnetError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new KnetError('internal', `unexpected error: ${message.split('\n')[0]}`, {
    suggestion: 'run again with --debug for details and report it',
    cause: error,
  })
}
