/**
 * The one place where errors become what a user sees: a single line on stderr and a documented
 * exit code. --debug adds the cause chain; nothing else ever prints a stack trace.
 */
import {Command, Flags, Errors} from '@oclif/core'
import {KnetError, normaliseError} from '../report/errors.js'
import {ExitCode} from '../report/exit-codes.js'

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({description: 'show error causes and internal detail on stderr', helpGroup: 'GLOBAL'}),
  }

  protected debugEnabled(): boolean {
    return this.argv.includes('--debug')
  }

  /** Write to stderr (progress, logs); stdout stays reserved for results. */
  protected note(message: string): void {
    process.stderr.write(`${message}\n`)
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    // oclif's own exits (this.exit, --help, --version) pass through untouched.
    if (error instanceof Errors.ExitError) throw error
    // Whatever failed, oclif's dev-mode "did not parse its arguments" hint would only add noise.
    this.parsed = true
    if (isOclifUsageError(error)) {
      process.stderr.write(`knet: ${firstLine(error.message)}\n`)
      process.exitCode = ExitCode.Usage
      return
    }
    // oclif prefixes errors from custom flag parsers with "Parsing --flag"; ours already name the flag.
    if (error instanceof KnetError) error.message = error.message.replace(/^Parsing --[\w-]+\s*\n\s*/, '').replace(/\s*See more help with --help\s*$/, '')
    const knetError = error instanceof KnetError ? error : normaliseError(error)
    process.stderr.write(`knet: ${knetError.oneLine()}\n`)
    if (this.debugEnabled()) process.stderr.write(`${describeCause(knetError)}\n`)
    process.exitCode = knetError.exitCode
  }
}

function isOclifUsageError(error: Error & {oclif?: {exit?: number}}): boolean {
  // Flag/argument parse failures from oclif carry oclif.exit === 2.
  return error instanceof Errors.CLIError && (error.oclif?.exit ?? 2) === 2 && !(error instanceof KnetError)
}

function firstLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean)
  // oclif appends "See more help with --help"; keep the reason and the hint on one line.
  return lines.slice(0, 2).join(' ')
}

function describeCause(error: Error): string {
  const parts: string[] = []
  let current: unknown = error
  while (current instanceof Error) {
    parts.push(current.stack ?? current.message)
    current = current.cause
  }
  return parts.join('\ncaused by: ')
}
