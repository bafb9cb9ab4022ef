/** Finding severities, ordered ok < info < warn < error; --fail-on compares against this order. */
export const SEVERITIES = ['info', 'warn', 'error'] as const
export type Severity = (typeof SEVERITIES)[number]

export const FAIL_ON = ['error', 'warn', 'info', 'none'] as const
export type FailOn = (typeof FAIL_ON)[number]

const RANK: Record<Severity | 'ok', number> = {ok: 0, info: 1, warn: 2, error: 3}

export function severityRank(s: Severity | 'ok'): number {
  return RANK[s]
}

/** True when a finding of this severity makes `--fail-on failOn` fail; `none` never fails. */
export function failsAt(s: Severity, failOn: FailOn): boolean {
  return failOn !== 'none' && RANK[s] >= RANK[failOn]
}
