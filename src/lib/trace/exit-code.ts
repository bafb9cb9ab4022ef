import {ExitCode} from '../report/exit-codes.js'
import type {Verdict} from './types.js'

/** 0 delivered, 1 dropped or partial, 3 unknown (README "Exit codes"). */
export function traceExitCode(verdict: Verdict): ExitCode {
  return verdict === 'delivered' ? ExitCode.Ok : verdict === 'unknown' ? ExitCode.Gather : ExitCode.Findings
}
