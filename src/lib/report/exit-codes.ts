/** knet's documented exit codes; README and every command's help quote these. */
export const ExitCode = {
  /** Success: nothing at or above --fail-on, or a trace that was delivered. */
  Ok: 0,
  /** Findings at or above --fail-on, or a trace that was dropped / partial. */
  Findings: 1,
  /** Usage error or bad input (unknown flag, unreadable or corrupt file, newer snapshot schema). */
  Usage: 2,
  /** Evidence could not be gathered (API unreachable, unauthorized, forbidden, timeout) or a verdict is unknown. */
  Gather: 3,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export const EXIT_CODES_HELP = `EXIT CODES
  0  success (no finding at or above --fail-on; trace delivered)
  1  findings at or above --fail-on; trace dropped or partial
  2  usage error or bad input (bad flag, corrupt or newer snapshot, malformed file)
  3  evidence could not be gathered, or the verdict is unknown`
