import {describe, expect, it} from 'vitest'
import {CATALOG, DEFAULT_TIMEOUT_MS, catalogCommand, isCatalogArgv} from '../../../../src/lib/gather/node/catalog.js'

describe('node command catalogue', () => {
  it('has unique ids and only read-only binaries', () => {
    const ids = CATALOG.map((c) => c.id)
    expect(new Set(ids).size).toBe(ids.length)
    const binaries = new Set(CATALOG.map((c) => c.argv[0]))
    expect([...binaries].sort()).toEqual(
      ['bridge', 'conntrack', 'grep', 'ip', 'ip6tables-save', 'iptables', 'iptables-legacy-save', 'iptables-save', 'ipset', 'ipvsadm', 'nft'].sort(),
    )
  })

  it('never uses a verb that changes state', () => {
    const writeVerbs = ['add', 'del', 'delete', 'set', 'flush', 'change', 'replace', 'append', '-D', '-F', '-A', '-I', '-X', '-w', '-C']
    for (const c of CATALOG) {
      for (const verb of writeVerbs) expect(c.argv, `${c.id} contains ${verb}`).not.toContain(verb)
    }
  })

  it('covers the evidence the issue lists, in exact argv form', () => {
    expect(catalogCommand('links')?.argv).toEqual(['ip', '-j', '-d', 'link', 'show'])
    expect(catalogCommand('routes4')?.argv).toEqual(['ip', '-j', 'route', 'show', 'table', 'all'])
    expect(catalogCommand('routes6')?.argv).toEqual(['ip', '-6', '-j', 'route', 'show', 'table', 'all'])
    expect(catalogCommand('rules6')?.argv).toEqual(['ip', '-6', '-j', 'rule', 'show'])
    expect(catalogCommand('bridge-fdb')?.argv).toEqual(['bridge', '-j', 'fdb', 'show'])
    expect(catalogCommand('nft-chains')?.argv).toEqual(['nft', '-j', 'list', 'chains'])
    expect(catalogCommand('iptables-version')?.argv).toEqual(['iptables', '--version'])
    expect(catalogCommand('ipvsadm')?.argv).toEqual(['ipvsadm', '-S', '-n'])
    expect(catalogCommand('ipset')?.argv).toEqual(['ipset', 'save'])
    expect(catalogCommand('conntrack')?.argv).toEqual(['conntrack', '-L'])
    expect(catalogCommand('sysctls')?.argv).toContain('/proc/sys/net/bridge/bridge-nf-call-iptables')
    expect(catalogCommand('cni-conf')?.argv.at(-1)).toBe('/etc/cni/net.d')
    expect(catalogCommand('proxy-arp')?.argv).toEqual(['grep', '-r', '-H', '--include=proxy_arp', '.', '/proc/sys/net/ipv4/conf'])
  })

  it('gives every command a timeout (10 s by default) and an output cap', () => {
    expect(catalogCommand('links')?.timeoutMs).toBe(DEFAULT_TIMEOUT_MS)
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000)
    for (const c of CATALOG) {
      expect(c.timeoutMs).toBeGreaterThan(0)
      expect(c.maxBytes).toBeGreaterThan(0)
    }
    expect(catalogCommand('conntrack')?.maxBytes).toBe(32 * 1024 * 1024)
  })

  it('recognises only exact catalogue argv', () => {
    expect(isCatalogArgv(['ip', '-j', 'addr', 'show'])).toBe(true)
    expect(isCatalogArgv(['ip', '-j', 'addr', 'show', ';', 'rm'])).toBe(false)
    expect(isCatalogArgv(['ip', 'link', 'del', 'eth0'])).toBe(false)
    expect(isCatalogArgv([])).toBe(false)
  })

  it('is frozen so no caller can add to it at run time', () => {
    expect(Object.isFrozen(CATALOG)).toBe(true)
    expect(Object.isFrozen(CATALOG[0]?.argv)).toBe(true)
  })
})
