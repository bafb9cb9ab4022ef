/**
 * Tracing over a running lab in-process, as `knet trace --lab` does (the CLI itself is exercised by
 * a few tests and by test/commands/trace.test.ts): one capture of the lab, shared by every pair
 * traced in that state, keeps the lab suites short.
 */
import {resolveAnalysisSnapshot} from '../../../src/lib/gather/analysis-source.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceExitCode} from '../../../src/lib/trace/exit-code.js'
import {traceSnapshot, type TraceRequest} from '../../../src/lib/trace/path.js'
import {pathNodes} from '../../../src/lib/trace/path-nodes.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

/** `knet trace` arguments (SRC DST [--protocol P] [--size N] [--source-port N]) as a request. */
export function traceRequest(args: string[]): TraceRequest {
  const [src = '', dst = '', ...rest] = args
  const opt = (flag: string): string | undefined => (rest.includes(flag) ? rest[rest.indexOf(flag) + 1] : undefined)
  const protocol = opt('--protocol') as 'tcp' | 'udp' | 'icmp' | undefined
  const size = opt('--size')
  const sourcePort = opt('--source-port')
  return {
    ...(sourcePort ? {sourcePort: Number(sourcePort)} : {}),
    source: parseEndpoint(src, 'default'),
    destination: parseEndpoint(dst, 'default'),
    ...(protocol ? {protocol} : {}),
    ...(size ? {size: Number(size)} : {}),
  }
}

/**
 * The lab's evidence (KNET_LAB_DIR = root); with requests, only the nodes on their paths, as `knet trace --lab` gathers.
 * Limits of 2 min (API requests, each node command) are hang detectors: with two CI runs on two
 * cores a node's `ip link` has taken over the catalogue's 10 s, and trace then (rightly) said unknown.
 */
export function captureLab(name: string, root: string, onPath: TraceRequest[] = []): Promise<Snapshot> {
  process.env.KNET_LAB_DIR = root
  const union = (cluster: Parameters<typeof pathNodes>[0]) => {
    const each = onPath.map((r) => pathNodes(cluster, r))
    return each.some((n) => n === undefined) ? undefined : [...new Set(each.flat() as string[])]
  }
  return resolveAnalysisSnapshot({lab: name, timeoutMs: 120_000, commandTimeoutMs: 120_000, parallel: 4, knetVersion: 'test', command: 'test', ...(onPath.length > 0 ? {pathNodes: union} : {})})
}

export function traceIn(snapshot: Snapshot, args: string[]): {status: number; result: TraceResult} {
  const result = traceSnapshot(snapshot, traceRequest(args))
  return {status: traceExitCode(result.verdict), result}
}

/** For a disagreeing trace that could not tell: its reason and what the capture could not gather (a failing row says why). */
export function whyUnknown(snapshot: Snapshot, t: {verdict: string; reason: {message: string} | null}): string {
  if (t.verdict !== 'unknown') return ''
  const errors = snapshot.collectionErrors.map((e) => `${e.node ?? e.source}: ${e.message}`)
  return ` (${t.reason?.message ?? '?'}${errors.length > 0 ? `; not gathered: ${errors.join('; ')}` : ''})`
}
