import {ExitCode} from '../report/exit-codes.js'
import type {TraceResult} from './types.js'

/** `trace --probe`: the real packet contradicted the verdict (a finding about knet itself). */
export const TRACE_DISAGREES = 4

/** 0 delivered, 1 dropped or partial, 3 unknown, 4 --probe disagreed (README "Exit codes"). */
export function traceExitCode(verdict: TraceResult['verdict'], probe?: TraceResult['probe']): number {
  if (probe?.agrees === false) return TRACE_DISAGREES
  return verdict === 'delivered' ? ExitCode.Ok : verdict === 'unknown' ? ExitCode.Gather : ExitCode.Findings
}
