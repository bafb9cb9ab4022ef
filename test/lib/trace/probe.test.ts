/**
 * `trace --probe`'s comparison of prediction and observation, with probe results given directly
 * (the real prober runs in the lab suite): agreement, each kind of disagreement, unknown, the exit
 * code, the probe request trace asks the lab for, and how the table shows both side by side.
 */
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import type {ProbeResult} from '../../../src/lib/lab/probe.js'
import {renderTraceTable} from '../../../src/lib/render/trace-table.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {TRACE_DISAGREES, traceExitCode} from '../../../src/lib/trace/exit-code.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import {compareWithProbe, probeLive, probeRequestFor} from '../../../src/lib/trace/probe.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = fileURLToPath(new URL('fixtures/lab-host-gw.json.gz', import.meta.url))

function observed(outcome: ProbeResult['outcome'], answeredBy: string[], outcomes: Partial<ProbeResult['outcomes']>): ProbeResult {
  const all = {delivered: 0, refused: 0, timeout: 0, error: 0, ...outcomes}
  return {
    schemaVersion: 1, lab: 'x', source: {kind: 'pod', name: 'pod/default/web-1-1', netns: 'n', ip: '10.244.1.2'},
    destination: {input: 'd', kind: 'pod', ip: '10.244.2.2', protocol: 'tcp'}, protocol: 'tcp', port: 8080, size: 16,
    outcome, answeredBy, attempts: Object.values(all).reduce((a, b) => a + b, 0), outcomes: all,
  }
}

describe('trace --probe: prediction against the real packet', () => {
  let snap: Snapshot
  const run = (src: string, dst: string): TraceResult => traceSnapshot(snap, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})
  beforeAll(async () => {
    snap = await readSnapshot(fixture)
  })

  it('agreement and disagreement, for delivered, dropped, partial and unknown verdicts', () => {
    const delivered = run('web-1-1', 'web-2-1')
    expect(compareWithProbe(delivered, observed('delivered', ['web-2-1'], {delivered: 1}))).toEqual({observed: 'delivered', agrees: true, detail: '1 attempt: 1 delivered; answered by web-2-1'})
    expect(compareWithProbe(delivered, observed('timeout', [], {timeout: 1}))).toEqual({observed: 'timeout', agrees: false, detail: 'predicted delivered, but the real packet was timeout (1 attempt: 1 timeout)'})
    const dropped = run('web-2-1', 'svc/default/empty')
    expect(dropped.verdict).toBe('dropped')
    expect(compareWithProbe(dropped, observed('refused', [], {refused: 1})).agrees).toBe(true)
    expect(compareWithProbe(dropped, observed('delivered', ['web-1-1'], {delivered: 1}))).toMatchObject({agrees: false, detail: 'predicted dropped (netfilter-reject), but the real packet was delivered (1 attempt: 1 delivered; answered by web-1-1)'})
    // partial: the answering endpoints must be the ones predicted delivered.
    const partial: TraceResult = {...run('web-1-1', 'svc/default/web'), verdict: 'partial'}
    partial.branches = partial.branches.map((b) => (b.endpoint === 'pod/default/web-2-2' ? {...b, verdict: 'dropped'} : b))
    expect(compareWithProbe(partial, observed('partial', ['web-1-1', 'web-1-2', 'web-2-1'], {delivered: 30, timeout: 10})).agrees).toBe(true)
    expect(compareWithProbe(partial, observed('partial', ['web-1-1', 'web-1-2', 'web-2-2'], {delivered: 30, timeout: 10}))).toMatchObject({
      agrees: false, detail: expect.stringMatching(/^predicted answers from web-1-1, web-1-2, web-2-1, but web-1-1, web-1-2, web-2-2 answered/),
    })
    expect(compareWithProbe(partial, observed('delivered', ['web-1-1'], {delivered: 4})).agrees).toBe(false)
    const unknown: TraceResult = {...delivered, verdict: 'unknown'}
    expect(compareWithProbe(unknown, observed('timeout', [], {timeout: 1}))).toEqual({observed: 'timeout', agrees: null, detail: 'trace made no prediction (unknown); the real packet: timeout (1 attempt: 1 timeout)'})
  })

  it('a disagreement has its own exit code, whatever the verdict; agreement keeps the verdict’s', () => {
    expect(TRACE_DISAGREES).toBe(4)
    expect(traceExitCode('delivered', {observed: 'timeout', agrees: false, detail: ''})).toBe(4)
    expect(traceExitCode('dropped', {observed: 'delivered', agrees: false, detail: ''})).toBe(4)
    expect(traceExitCode('dropped', {observed: 'timeout', agrees: true, detail: ''})).toBe(1)
    expect(traceExitCode('unknown', {observed: 'timeout', agrees: null, detail: ''})).toBe(3)
  })

  it('asks the lab prober for the same source, address, port and protocol', () => {
    expect(probeRequestFor(run('web-1-1', 'web-2-1'))).toEqual({source: 'pod/default/web-1-1', destination: '10.244.2.2:8080', protocol: 'tcp'})
    expect(probeRequestFor(run('node/node-1', 'svc/default/dns'), 100)).toEqual({source: 'node/node-1', destination: '10.96.0.53:53', protocol: 'udp', size: 100, timeoutMs: 500})
    const external = traceSnapshot(snap, {source: parseEndpoint('192.0.2.9', 'default'), destination: parseEndpoint('10.100.0.3:30080', 'default'), entryNode: 'node-2'})
    expect(() => probeRequestFor(external)).toThrow(expect.objectContaining({kind: 'bad-input', message: '--probe: an external source cannot send a packet from the lab'}))
  })

  it('the table shows prediction and observation side by side', () => {
    const r = {...run('web-1-1', 'web-2-1'), probe: {observed: 'timeout' as const, agrees: false, detail: 'predicted delivered, but the real packet was timeout (1 attempt: 1 timeout)'}}
    expect(renderTraceTable(r, {width: 200, color: false}).split('\n').slice(-3)).toEqual([
      'predicted:    DELIVERED',
      'real packet:  TIMEOUT — predicted delivered, but the real packet was timeout (1 attempt: 1 timeout)',
      '              DISAGREES',
    ])
    // The JSON keeps every existing field and adds probe last.
    expect(Object.keys(JSON.parse(JSON.stringify(r)) as object).at(-1)).toBe('probe')
  })

  it('on a live cluster, an outside source, or a node without pod or agent access, is not probed: an unknown observation that says why, and no API call', async () => {
    // A kubeconfig that does not exist: any attempt to reach an API would fail loudly.
    const o = {kubeconfig: '/nonexistent/knet-kubeconfig', timeoutMs: 1000}
    const fromNode = await probeLive(run('node/node-1', 'web-2-2'), {...o, nodeAccess: 'ssh'})
    expect(fromNode).toEqual({
      observed: 'unknown', agrees: null, via: null,
      detail: 'no packet was sent: from a node, knet sends it through a pod on that node (--node-access pod or agent), not --node-access ssh',
    })
    const external = traceSnapshot(snap, {source: parseEndpoint('192.0.2.9', 'default'), destination: parseEndpoint('10.100.0.3:30080', 'default'), entryNode: 'node-2'})
    expect(await probeLive(external, o)).toEqual({observed: 'unknown', agrees: null, via: null, detail: 'no packet was sent: 192.0.2.9 is outside the cluster, and knet sends real packets only from a pod or a node (through exec)'})
    // Not an error: the exit code is the verdict's, and the table says there is nothing to compare.
    expect(traceExitCode('delivered', fromNode)).toBe(0)
    expect(renderTraceTable({...run('node/node-1', 'web-2-2'), probe: fromNode}, {width: 300, color: false}).split('\n').slice(-2)).toEqual([
      `real packet:  UNKNOWN — ${fromNode.detail}`,
      '              nothing to compare',
    ])
  })

  it('a partial Service outcome whose replies do not name endpoints is compared as partial only', () => {
    const partial: TraceResult = {...run('web-1-1', 'svc/default/web'), verdict: 'partial'}
    expect(compareWithProbe(partial, {...observed('partial', [], {delivered: 9, timeout: 3}), identifiesEndpoints: false})).toEqual({
      observed: 'partial', agrees: true, detail: '12 attempts: 9 delivered, 3 timeout; which endpoints answered is unknown (the replies do not name them)',
    })
  })
})
