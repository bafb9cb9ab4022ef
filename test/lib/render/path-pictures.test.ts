/**
 * The pictures of a path (-o dot, -o mermaid) and doctor's HTML page, checked by the tools that read
 * them: Graphviz's dot parses and draws the DOT, Mermaid's own parser reads the flowchart (in Node:
 * its flowchart parser needs only a DOM for DOMPurify, which jsdom provides; drawing a Mermaid PNG
 * needs a real browser's layout, so that is done with Debian's chromium when it is installed).
 */
import {spawnSync} from 'node:child_process'
import {execa} from 'execa'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {renderDoctorHtml} from '../../../src/lib/render/doctor-html.js'
import {traceGraph} from '../../../src/lib/render/path-graph.js'
import {renderTraceDot} from '../../../src/lib/render/trace-dot.js'
import {renderTraceMermaid} from '../../../src/lib/render/trace-mermaid.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'
import type {TraceResult} from '../../../src/lib/trace/types.js'

const fixture = (name: string) => fileURLToPath(new URL(name, import.meta.url))
const STALE = fixture('fixtures/svc-stale-nat.json.gz')
const HEALTHY = fixture('fixtures/svc-healthy.json.gz')
const VXLAN = fixture('../trace/fixtures/lab-vxlan.json.gz')
const HOST_GW = fixture('../trace/fixtures/lab-host-gw.json.gz')

async function trace(file: string, src: string, dst: string): Promise<TraceResult> {
  return traceSnapshot(await readSnapshot(file), {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const DOT = has('dot')
const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find(has)
const dir = mkdtempSync(join(tmpdir(), 'knet-pictures-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

let cases: [string, TraceResult][] = []
beforeAll(async () => {
  cases = [
    ['stale endpoint (vxlan, 3 nodes)', await trace(STALE, 'web-1-1', 'svc/default/web:80')],
    ['healthy Service', await trace(HEALTHY, 'web-1-1', 'svc/default/web:80')],
    ['netfilter reject', await trace(VXLAN, 'web-1-1', 'svc/default/empty')],
    ['pod to pod, host-gw', await trace(HOST_GW, 'web-1-1', 'web-2-2')],
    ['UDP Service', await trace(VXLAN, 'web-2-2', 'svc/default/dns')],
  ]
})

describe('the path as a graph', () => {
  it('pods, veths, bridges, tunnels, the underlay and the DNAT choices; shared hops once; the failing choice marked', () => {
    const [, r] = cases[0] as [string, TraceResult]
    const g = traceGraph(r)
    const kinds = (k: string) => g.vertices.filter((v) => v.kind === k).map((v) => `${v.node ?? '-'} ${v.label}`)
    expect(kinds('tunnel')).toEqual(['node-1 node-1 flannel.1', 'node-2 node-2 flannel.1', 'node-3 node-3 flannel.1'])
    expect(kinds('underlay')).toEqual(['- 10.100.0.3', '- 10.100.0.4'])
    expect(kinds('nat')).toHaveLength(6)
    expect(g.vertices.filter((v) => v.status !== 'ok').map((v) => [v.label, v.code])).toEqual([['DNAT → 10.244.2.3:8080 (16.7%), no pod', 'nat-stale-endpoint']])
    // node-1's flannel.1 carries the three branches to node-2 and node-3: one vertex, three ways in.
    const flannel = g.vertices.find((v) => v.label === 'node-1 flannel.1')
    expect(g.edges.filter((e) => e.to === flannel?.id)).toHaveLength(3)
    expect(g.title).toBe('pod/default/web-1-1 → svc/default/web:80 tcp: partial (nat-stale-endpoint)')
  })
})

describe.skipIf(!DOT)('-o dot, read by Graphviz', () => {
  it('every trace is a graph dot accepts, and draws to a PNG that is not empty', async () => {
    for (const [name, r] of cases) {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.dot`)
      writeFileSync(file, renderTraceDot(r))
      // Awaited, not spawnSync: a worker blocked in a row of child processes misses vitest's replies (helpers/breathe.ts).
      const canon = await execa('dot', ['-Tcanon', file], {reject: false})
      expect([name, canon.exitCode, canon.stderr]).toEqual([name, 0, ''])
    }
    const [, stale] = cases[0] as [string, TraceResult]
    const dot = renderTraceDot(stale)
    expect(dot).toMatch(/label="✗ DNAT → 10\.244\.2\.3:8080 \(16\.7%\), no pod\\nnat-stale-endpoint", shape=parallelogram.*color="#c00000"/)
    expect(dot).toContain('subgraph cluster_1 {\n    label="node-1";')
    const png = join(dir, 'stale.png')
    const drawn = await execa('dot', ['-Tpng', '-o', png], {input: dot, reject: false})
    expect(drawn.exitCode).toBe(0)
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG')
    expect(statSync(png).size).toBeGreaterThan(10_000)
  })
})
if (!DOT) it.skip('-o dot: Graphviz (dot) is not installed (apt-get install graphviz)', () => {})

describe('-o mermaid, read by Mermaid', () => {
  it("every trace parses with Mermaid's own flowchart parser; a broken one does not", async () => {
    // jsdom ships no types (and only this test uses it): the one constructor it needs, typed here.
    const jsdom = 'jsdom'
    const {JSDOM} = (await import(jsdom)) as {JSDOM: new (html: string) => {window: {document: unknown; close(): void}}}
    const dom = new JSDOM('<!doctype html><html><body></body></html>')
    const g = globalThis as unknown as Record<string, unknown>
    const saved = {window: g.window, document: g.document}
    g.window = dom.window
    g.document = dom.window.document
    try {
      const mermaid = (await import('mermaid')).default
      for (const [name, r] of cases) {
        const parsed = await mermaid.parse(renderTraceMermaid(r))
        expect([name, parsed && parsed.diagramType]).toEqual([name, 'flowchart-v2'])
      }
      await expect(mermaid.parse('flowchart LR\n  n1 --> --> n2')).rejects.toThrow(/Parse error/)
    } finally {
      Object.assign(g, saved)
      dom.window.close()
    }
  }, 600_000)

  it.skipIf(!CHROMIUM)('draws to a PNG in headless chromium, from mermaid.min.js inlined (no network)', async () => {
    const [, r] = cases[0] as [string, TraceResult]
    const script = readFileSync(createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script')
    const html = join(dir, 'mermaid.html')
    writeFileSync(html, `<!doctype html><html><body><pre class="mermaid">${renderTraceMermaid(r).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</pre><script>${script}</script><script>mermaid.initialize({startOnLoad: true})</script></body></html>`)
    const png = join(dir, 'mermaid.png')
    const run = await execa(CHROMIUM as string, ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=10000', '--window-size=1600,900', `--screenshot=${png}`, `file://${html}`], {reject: false, timeout: 120_000})
    expect(run.exitCode).toBe(0)
    expect(statSync(png).size).toBeGreaterThan(10_000)
  })
  if (!CHROMIUM) it.skip('drawing Mermaid to a PNG needs a browser: no chromium installed (apt-get install chromium)', () => {})
})

describe('doctor -o html', () => {
  it('one self-contained page: inline CSS, nothing loaded from anywhere, one row per fault, grouped by severity', async () => {
    const report = runDoctor(await readSnapshot(STALE), CHECKS)
    const html = renderDoctorHtml(report, {checks: CHECKS, knetVersion: '0.1.0'})
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true)
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|https?:\/\//i)
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`)
    expect(html.match(/<tr class="error">/g)).toHaveLength(1)
    expect(html).toContain('<h2 class="error">ERROR (1 fault)</h2>')
    expect(html).toContain('services default/web, default/web-np<br>on node-1, node-2, node-3')
    expect(html).toContain('<span class="source">node-1, node-2, node-3 iptables nat:</span> -A KUBE-SEP-VQGOCFX4X6FWJPNR -p tcp -m comment --comment &quot;default/web:http&quot;')
  })

  it.skipIf(!CHROMIUM)('opens in headless chromium with the network off and shows the findings', async () => {
    const report = runDoctor(await readSnapshot(STALE), CHECKS)
    const file = join(dir, 'doctor.html')
    writeFileSync(file, renderDoctorHtml(report, {checks: CHECKS}))
    const run = await execa(CHROMIUM as string, ['--headless', '--no-sandbox', '--disable-gpu', '--proxy-server=127.0.0.1:9', '--dump-dom', `file://${file}`], {reject: false, timeout: 120_000})
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('nat-stale-endpoint')
  })
  if (!CHROMIUM) it.skip('opening the HTML in a browser: no chromium installed (apt-get install chromium; optional, too heavy for CI)', () => {})
})
