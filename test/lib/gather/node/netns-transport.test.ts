import {afterAll, beforeAll, expect, it} from 'vitest'
import {CATALOG, catalogCommand, type CatalogCommand} from '../../../../src/lib/gather/node/catalog.js'
import {gatherNodes} from '../../../../src/lib/gather/node/gather-node.js'
import {NetnsTransport} from '../../../../src/lib/gather/node/netns.js'
import {runCommand} from '../../../../src/lib/gather/node/run-command.js'
import {describeNetns, TestNetns} from '../../../helpers/netns.js'

describeNetns('netns transport on a real namespace', () => {
  let ns: TestNetns
  beforeAll(() => {
    ns = TestNetns.create('transport')
    // No dummy driver on every kernel (not on CI's): a veth pair with both ends here will do.
    ns.run(['ip', 'link', 'add', 'knd0', 'type', 'veth', 'peer', 'name', 'knd1'])
    ns.run(['ip', 'link', 'set', 'knd0', 'up'])
    ns.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'knd0'])
  })
  afterAll(() => ns.destroy())

  it('runs catalogue argv inside the namespace and records what ran', async () => {
    const r = await runCommand(new NetnsTransport(ns.name), catalogCommand('addrs') as CatalogCommand)
    expect(r.status).toBe('ok')
    expect(r.exitCode).toBe(0)
    expect(r.execArgv).toEqual(['ip', 'netns', 'exec', ns.name, 'ip', '-j', 'addr', 'show'])
    expect(r.argv).toEqual(['ip', '-j', 'addr', 'show'])
    const ifaces = JSON.parse(r.stdout) as {ifname: string}[]
    expect(ifaces.map((i) => i.ifname).sort()).toEqual(['knd0', 'knd1', 'lo'])
  })

  it('gathers the whole catalogue, with unavailable evidence recorded as such', async () => {
    const {nodes, errors} = await gatherNodes([{name: 'node-1', transport: new NetnsTransport(ns.name)}])
    const node = nodes[0]
    expect(node?.name).toBe('node-1')
    expect(node?.access).toEqual({kind: 'netns', target: ns.name})
    expect(node?.results.map((r) => r.id)).toEqual(CATALOG.map((c) => c.id))
    const byId = new Map(node?.results.map((r) => [r.id, r]))
    expect(byId.get('routes4')?.stdout).toContain('192.0.2.0/24')
    // This kernel has no IPVS: that is a fact about the node, not a collection error.
    const ipvs = byId.get('ipvsadm')
    if (ipvs?.status === 'unavailable') expect(ipvs.reason).toMatch(/ipvs|not installed/i)
    expect(byId.get('sysctls')?.stdout).toMatch(/^\/proc\/sys\/net\/ipv4\/ip_forward:0$/m)
    expect(byId.get('rp-filter')?.stdout).toMatch(/^\/proc\/sys\/net\/ipv4\/conf\/knd0\/rp_filter:\d$/m)
    expect(errors).toEqual([])
  })

  it('refuses argv that is not in the catalogue', async () => {
    const rogue: CatalogCommand = {id: 'x', argv: ['ip', 'link', 'del', 'knd0'], description: '', timeoutMs: 1000, maxBytes: 100}
    const r = await runCommand(new NetnsTransport(ns.name), rogue)
    expect(r.status).toBe('failed')
    expect(r.reason).toMatch(/refusing to run a command outside the catalogue/)
    expect(ns.run(['ip', '-br', 'link', 'show', 'knd0'])).toContain('knd0')
  })

  it('rejects namespace names that could smuggle options', () => {
    expect(() => new NetnsTransport('-all')).toThrow(/invalid network namespace name/)
    expect(() => new NetnsTransport('a b')).toThrow(/invalid network namespace name/)
  })
})
