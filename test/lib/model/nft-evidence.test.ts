/**
 * nft evidence without iptables-nft's duplicate (issue 15, point 6): `nft -j list tables` plus one
 * `nft -j list table` per table iptables-nft does not own replays to the same answers as the old
 * `nft -j list ruleset`, which old snapshots hold and which still replays as before.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {beforeAll, describe, expect, it} from 'vitest'
import {runDoctor} from '../../../src/lib/checks/context.js'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {catalogCommand, isCatalogArgv, nftTableCommand} from '../../../src/lib/gather/node/catalog.js'
import {nftTableCommands} from '../../../src/lib/gather/node/gather-node.js'
import {buildNodeDatapath} from '../../../src/lib/model/node.js'
import {nftIndex} from '../../../src/lib/datapath/nftables/ruleset.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import type {CommandResult, Snapshot} from '../../../src/lib/snapshot/schema.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'

const netfilter = (name: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/netfilter/${name}`, import.meta.url)), 'utf8')

/** node-1 in nftables mode, as test/lib/trace/nftables-mode.test.ts builds it: the old layout, one `nft -j list ruleset`. */
function nftablesMode(snap: Snapshot): Snapshot {
  const copy = structuredClone(snap)
  const node = copy.nodes.find((n) => n.name === 'node-1')
  const get = (id: string) => node?.results.find((x) => x.id === id) as CommandResult
  get('iptables-save').stdout = netfilter('iptables-save.lab-node-1.nftables-mode.txt')
  Object.assign(get('nft'), {status: 'ok', exitCode: 0, stdout: netfilter('nft-list-ruleset.lab-node-1.nftables-mode.json'), stderr: ''})
  return copy
}

type Entry = Record<string, {family?: string; name?: string; table?: string}>

const result = (id: string, argv: string[], stdout: string, status: CommandResult['status'] = 'ok'): CommandResult => ({
  id, argv, execArgv: argv, status, exitCode: status === 'ok' ? 0 : 1, stdout, stderr: '', durationMs: 1, truncated: false,
})

/** What the new catalogue gathers on a node whose `nft -j list ruleset` printed `full`: the chains, then each table gather-node picks. */
function newLayout(results: CommandResult[], full: string): CommandResult[] {
  const doc = JSON.parse(full) as {nftables: Entry[]}
  const meta = doc.nftables.filter((e) => 'metainfo' in e)
  const chains = doc.nftables.filter((e) => 'chain' in e)
  const listing = result('nft-chains', ['nft', '-j', 'list', 'chains'], JSON.stringify({nftables: [...meta, ...chains]}))
  const first = [...results.filter((r) => r.id !== 'nft'), listing]
  const second = nftTableCommands(first).map((c) => {
    const [family, name] = c.argv.slice(4)
    const own = doc.nftables.filter((e) => Object.values(e).some((b) => b.family === family && (b.table ?? ('table' in e ? b.name : undefined)) === name))
    return result(c.id, [...c.argv], JSON.stringify({nftables: [...meta, ...own]}))
  })
  return [...first, ...second]
}

const sources = (text: string): string => text.replaceAll('nft -j list ruleset', 'NFT').replaceAll('nft -j list table ip kube-proxy', 'NFT')

describe('nft evidence by table', () => {
  let old: Snapshot
  let split: Snapshot
  beforeAll(async () => {
    old = nftablesMode(await readSnapshot(fileURLToPath(new URL('../trace/fixtures/lab-host-gw.json.gz', import.meta.url))))
    split = structuredClone(old)
    for (const node of split.nodes) {
      const full = node.results.find((r) => r.id === 'nft')
      const withVersion = [...node.results, result('iptables-version', ['iptables', '--version'], 'iptables v1.8.9 (nf_tables)\n')]
      node.results = full?.status === 'ok' ? newLayout(withVersion, full.stdout) : withVersion.filter((r) => r.id !== 'nft')
    }
  })

  it("lists kube-proxy's table and leaves out iptables-nft's filter and nat, which iptables-save holds", () => {
    const node = split.nodes.find((n) => n.name === 'node-1')
    expect(node?.results.filter((r) => r.id.startsWith('nft')).map((r) => r.argv.join(' '))).toEqual(['nft -j list chains', 'nft -j list table ip kube-proxy'])
    const dp = buildNodeDatapath(node as Snapshot['nodes'][number])
    expect(dp.nft?.tables.map((t) => [t.family, t.name, t.owner])).toEqual([['ip', 'filter', 'iptables-nft'], ['ip', 'nat', 'iptables-nft'], ['ip', 'kube-proxy', undefined]])
    // iptables-nft's base chains keep their hooks and priorities; its regular chains and rules are iptables-save's.
    expect(dp.nft?.chains.filter((c) => c.table !== 'kube-proxy').map((c) => `${c.table} ${c.name} ${c.hook} ${c.prio}`)).toEqual([
      'filter INPUT input 0', 'filter FORWARD forward 0', 'filter OUTPUT output 0',
      'nat PREROUTING prerouting -100', 'nat INPUT input 100', 'nat OUTPUT output -100', 'nat POSTROUTING postrouting 100',
    ])
    expect(dp.nft?.rules.every((r) => r.table === 'kube-proxy')).toBe(true)
    expect(nftIndex(dp.nft as NonNullable<typeof dp.nft>).tables.map((t) => t.xtables)).toEqual([true, true, false])
    expect(dp.evidence.nft?.source).toBe('node-1: nft -j list table ip kube-proxy')
    expect(dp.problems).toEqual(buildNodeDatapath(old.nodes.find((n) => n.name === 'node-1') as Snapshot['nodes'][number]).problems)
  })

  it('an old snapshot (nft -j list ruleset) and the new layout give the same traces and the same doctor report', () => {
    for (const [src, dst] of [['web-1-1', 'svc/default/web'], ['web-2-1', '10.100.0.2:30080'], ['web-1-1', 'svc/default/empty']] as const) {
      const trace = (s: Snapshot) => sources(JSON.stringify(traceSnapshot(s, {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})))
      expect(trace(split)).toBe(trace(old))
    }
    expect(sources(JSON.stringify(runDoctor(split, CHECKS)))).toBe(sources(JSON.stringify(runDoctor(old, CHECKS))))
  })

  it('a table iptables-nft would own is listed when iptables-save does not print it, is legacy, or failed', () => {
    const chains = JSON.stringify({nftables: [{chain: {family: 'ip', table: 'filter', name: 'INPUT', handle: 1}}, {chain: {family: 'inet', table: 'fw', name: 'input', handle: 2}}]})
    const base = [result('nft-chains', ['nft', '-j', 'list', 'chains'], chains)]
    const ids = (rs: CommandResult[]) => nftTableCommands(rs).map((c) => c.id)
    const nftVersion = result('iptables-version', ['iptables', '--version'], 'iptables v1.8.9 (nf_tables)\n')
    expect(ids([...base, nftVersion, result('iptables-save', ['iptables-save'], '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n')])).toEqual(['nft-table:inet:fw'])
    expect(ids([...base, nftVersion, result('iptables-save', ['iptables-save'], '*nat\nCOMMIT\n')])).toEqual(['nft-table:ip:filter', 'nft-table:inet:fw'])
    expect(ids([...base, result('iptables-version', ['iptables', '--version'], 'iptables v1.8.9 (legacy)\n'), result('iptables-save', ['iptables-save'], '*filter\nCOMMIT\n')])).toEqual(['nft-table:ip:filter', 'nft-table:inet:fw'])
    expect(ids([...base, nftVersion, result('iptables-save', ['iptables-save'], '', 'failed')])).toEqual(['nft-table:ip:filter', 'nft-table:inet:fw'])
    expect(ids([result('nft-chains', ['nft', '-j', 'list', 'chains'], '', 'unavailable')])).toEqual([])
  })

  it('a table listing that failed is a problem, not a silently empty table', () => {
    const chains = JSON.stringify({nftables: [{chain: {family: 'inet', table: 'fw', name: 'input', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'drop'}}]})
    const dp = buildNodeDatapath({name: 'n', access: {kind: 'local', target: 'localhost'}, results: [
      result('nft-chains', ['nft', '-j', 'list', 'chains'], chains),
      {...result('nft-table:inet:fw', ['nft', '-j', 'list', 'table', 'inet', 'fw'], '', 'timeout'), reason: 'timed out after 60000 ms'},
    ]})
    expect(dp.nft?.tables.map((t) => [t.name, t.owner])).toEqual([['fw', undefined]])
    expect(dp.nft?.chains.map((c) => [c.name, c.policy])).toEqual([['input', 'drop']])
    expect(dp.problems.map((p) => p.message)).toEqual(['nft -j list table inet fw: timed out after 60000 ms; only its chains are known'])
  })

  it('the allow-list takes one table by family and nft identifier, nothing else', () => {
    expect(catalogCommand('nft-chains')?.argv).toEqual(['nft', '-j', 'list', 'chains'])
    expect(nftTableCommand('ip', 'kube-proxy')?.argv).toEqual(['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'])
    expect(isCatalogArgv(['nft', '-j', 'list', 'table', 'inet', 'firewalld'])).toBe(true)
    for (const bad of [['nft', '-j', 'list', 'table', 'ip', '-f'], ['nft', '-j', 'list', 'table', 'foo', 'x'], ['nft', '-j', 'list', 'table', 'ip', 'a;b'], ['nft', '-j', 'flush', 'table', 'ip', 'x'], ['nft', '-j', 'list', 'table', 'ip']]) {
      expect(isCatalogArgv(bad)).toBe(false)
    }
    expect(nftTableCommand('ip', '$(reboot)')).toBeUndefined()
  })
})
