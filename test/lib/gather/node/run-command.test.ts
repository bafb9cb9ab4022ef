import {describe, expect, it} from 'vitest'
import {catalogCommand, type CatalogCommand} from '../../../../src/lib/gather/node/catalog.js'
import {classify} from '../../../../src/lib/gather/node/run-command.js'
import type {ExecOutcome} from '../../../../src/lib/gather/node/transport.js'

const base: ExecOutcome = {execArgv: [], exitCode: 0, stdout: 'x', stderr: '', durationMs: 1, timedOut: false, truncated: false, notFound: false}
const cmd = (id: string): CatalogCommand => catalogCommand(id) as CatalogCommand

describe('classifying a command outcome', () => {
  it('ok on exit 0', () => {
    expect(classify(cmd('links'), base)).toEqual({status: 'ok'})
  })
  it('a missing binary is unavailable, not a failure', () => {
    expect(classify(cmd('nft-chains'), {...base, exitCode: null, notFound: true})).toEqual({status: 'unavailable', reason: 'nft is not installed'})
  })
  it('ipvs missing from the kernel is unavailable with the tool\'s own words', () => {
    const r = classify(cmd('ipvsadm'), {...base, exitCode: 2, stdout: '', stderr: "Can't initialize ipvs: Protocol not available\nAre you sure …\n"})
    expect(r).toEqual({status: 'unavailable', reason: "Can't initialize ipvs: Protocol not available"})
  })
  it('permission problems are failures that say so', () => {
    const r = classify(cmd('iptables-save'), {
      ...base,
      exitCode: 1,
      stdout: '',
      stderr: 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n',
    })
    expect(r.status).toBe('failed')
    expect(r.reason).toMatch(/^permission denied: /)
  })
  it('grep exit 2 is ok for sysctls (some files absent, e.g. bridge-nf-call-* without br_netfilter)', () => {
    expect(classify(cmd('sysctls'), {...base, exitCode: 2, stdout: '/proc/sys/net/ipv4/ip_forward:1\n'})).toEqual({status: 'ok'})
    expect(classify(cmd('links'), {...base, exitCode: 2, stdout: '', stderr: 'weird\n'})).toEqual({status: 'failed', reason: 'exit 2: weird'})
  })
  it('a missing CNI folder is unavailable; an empty one (grep exit 1) is ok', () => {
    expect(classify(cmd('cni-conf'), {...base, exitCode: 2, stdout: '', stderr: 'grep: /etc/cni/net.d: No such file or directory\n'}).status).toBe('unavailable')
    expect(classify(cmd('cni-conf'), {...base, exitCode: 1, stdout: ''})).toEqual({status: 'ok'})
  })
  it('timeouts and truncation are reported', () => {
    expect(classify(cmd('conntrack'), {...base, exitCode: null, timedOut: true})).toEqual({status: 'timeout', reason: 'timed out after 20000 ms'})
    expect(classify(cmd('conntrack'), {...base, exitCode: null, truncated: true})).toEqual({status: 'ok', reason: 'output cut at 33554432 bytes'})
  })
})
