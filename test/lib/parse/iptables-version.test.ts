import {describe, expect, it} from 'vitest'
import {parseIptablesVersion} from '../../../src/lib/parse/iptables-version.js'

describe('parseIptablesVersion', () => {
  it('reads the version and the backend as iptables prints them', () => {
    expect(parseIptablesVersion('iptables v1.8.9 (nf_tables)\n')).toEqual({value: {version: '1.8.9', backend: 'nf_tables', text: 'iptables v1.8.9 (nf_tables)'}, problems: []})
    expect(parseIptablesVersion('iptables v1.8.4 (legacy)\n').value?.backend).toBe('legacy')
    // Before 1.8 there is no backend name, and no nf_tables backend.
    expect(parseIptablesVersion('iptables v1.6.1\n').value).toEqual({version: '1.6.1', backend: 'legacy', text: 'iptables v1.6.1'})
  })

  it('anything else is a problem, not a guess', () => {
    expect(parseIptablesVersion('').problems).toEqual([{line: 0, message: 'empty output'}])
    expect(parseIptablesVersion('busybox v1.36\n')).toEqual({value: undefined, problems: [{line: 1, message: 'not an iptables --version line', text: 'busybox v1.36'}]})
  })
})
