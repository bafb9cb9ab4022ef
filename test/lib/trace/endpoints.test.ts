import {describe, expect, it} from 'vitest'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'

describe('parseEndpoint', () => {
  it('reads every form the issue lists', () => {
    expect(parseEndpoint('pod/kube-system/coredns-1', 'default')).toEqual({input: 'pod/kube-system/coredns-1', kind: 'pod', namespace: 'kube-system', name: 'coredns-1'})
    expect(parseEndpoint('prod/api-0', 'default')).toEqual({input: 'prod/api-0', kind: 'pod', namespace: 'prod', name: 'api-0'})
    expect(parseEndpoint('web-1-1', 'team')).toEqual({input: 'web-1-1', kind: 'pod', namespace: 'team', name: 'web-1-1'})
    expect(parseEndpoint('svc/default/web:80', 'x')).toEqual({input: 'svc/default/web:80', kind: 'service', namespace: 'default', name: 'web', port: 80})
    expect(parseEndpoint('svc/default/dns:dns', 'x')).toEqual({input: 'svc/default/dns:dns', kind: 'service', namespace: 'default', name: 'dns', portName: 'dns'})
    expect(parseEndpoint('svc/web', 'team')).toEqual({input: 'svc/web', kind: 'service', namespace: 'team', name: 'web'})
    expect(parseEndpoint('node/node-1', 'x')).toEqual({input: 'node/node-1', kind: 'node', name: 'node-1'})
    expect(parseEndpoint('node/node-2:30080', 'x')).toEqual({input: 'node/node-2:30080', kind: 'node', name: 'node-2', port: 30080})
    expect(parseEndpoint('10.244.1.2', 'x')).toEqual({input: '10.244.1.2', kind: 'ip', ip: '10.244.1.2'})
    expect(parseEndpoint('10.96.0.10:53', 'x')).toEqual({input: '10.96.0.10:53', kind: 'ip', ip: '10.96.0.10', port: 53})
  })

  it('refuses what is none of them, with a usage error', () => {
    for (const bad of ['', 'a/b/c/d', 'svc/default/web:0', 'svc/default/web:70000', '10.0.0.300', 'node/a/b', 'node/n1:http', 'pod/default/web:http', 'Web_1', '10.1.1.1:99999']) {
      expect(() => parseEndpoint(bad, 'default'), bad).toThrow(expect.objectContaining({kind: 'bad-input'}))
    }
  })

  it('reads IPv6 addresses bare or in brackets with a port, canonicalised, and refuses malformed ones', () => {
    expect(parseEndpoint('fd00::1', 'x')).toEqual({input: 'fd00::1', kind: 'ip', ip: 'fd00::1'})
    expect(parseEndpoint('[fd00::10]:80', 'x')).toEqual({input: '[fd00::10]:80', kind: 'ip', ip: 'fd00::10', port: 80})
    expect(parseEndpoint('[FD00:0:0::0A]', 'x')).toEqual({input: '[FD00:0:0::0A]', kind: 'ip', ip: 'fd00::a'})
    for (const bad of ['[fd00::1]:0', '[fd00::1]:70000', '[10.0.0.1]:80', '[fd00::g]:80', 'fd00:::1', '[fd00::1]:http']) {
      expect(() => parseEndpoint(bad, 'default'), bad).toThrow(expect.objectContaining({kind: 'bad-input'}))
    }
  })
})
