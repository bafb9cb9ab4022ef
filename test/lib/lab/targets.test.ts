import {describe, expect, it} from 'vitest'
import {planLab} from '../../../src/lib/lab/plan.js'
import {resolveDestination, resolveSource} from '../../../src/lib/lab/targets.js'
import {KnetError} from '../../../src/lib/report/errors.js'

describe('probe targets', () => {
  const plan = planLab({name: 'knet', nodes: 2, podsPerNode: 2, topology: 'host-gw'})

  it('resolves sources', () => {
    expect(resolveSource(plan, 'web-1-2')).toEqual({kind: 'pod', name: 'pod/default/web-1-2', netns: 'knetlab-knet-n1-p2', ip: '10.244.1.3'})
    expect(resolveSource(plan, 'pod/default/web-2-1').netns).toBe('knetlab-knet-n2-p1')
    expect(resolveSource(plan, 'node/node-2')).toEqual({kind: 'node', name: 'node/node-2', netns: 'knetlab-knet-n2', ip: '10.100.0.3'})
    expect(() => resolveSource(plan, 'nope')).toThrow(KnetError)
  })

  it('a pod: its first port of the protocol', () => {
    expect(resolveDestination(plan, 'web-2-2')).toEqual({input: 'web-2-2', kind: 'pod', name: 'pod/default/web-2-2', ip: '10.244.2.3', port: 8080, protocol: 'tcp'})
    expect(resolveDestination(plan, 'web-2-2', 'udp')).toMatchObject({port: 5353, protocol: 'udp'})
    expect(resolveDestination(plan, 'pod/default/web-2-2:5353')).toMatchObject({port: 5353, protocol: 'udp'})
    expect(resolveDestination(plan, 'web-2-2', 'icmp')).toEqual({input: 'web-2-2', kind: 'pod', name: 'pod/default/web-2-2', ip: '10.244.2.3', protocol: 'icmp'})
  })

  it('a Service: ClusterIP, its port and protocol, its endpoints', () => {
    expect(resolveDestination(plan, 'svc/default/dns')).toMatchObject({
      kind: 'service',
      ip: '10.96.0.53',
      port: 53,
      protocol: 'udp',
      service: {namespace: 'default', name: 'dns', port: 53, via: 'clusterIP', endpoints: ['web-1-1', 'web-2-1']},
    })
    expect(resolveDestination(plan, 'svc/default/empty').service?.endpoints).toEqual([])
    expect(() => resolveDestination(plan, 'svc/default/web:81')).toThrow(KnetError)
  })

  it('recognises a Service however it is written: ClusterIP:port, node:nodePort, node IP:nodePort', () => {
    expect(resolveDestination(plan, '10.96.0.80:80').service).toMatchObject({name: 'web', via: 'clusterIP'})
    expect(resolveDestination(plan, 'node/node-1:30080')).toMatchObject({kind: 'node', ip: '10.100.0.2', port: 30080, protocol: 'tcp', service: {name: 'web-np', nodePort: 30080, via: 'nodePort'}})
    expect(resolveDestination(plan, '10.100.0.3:30080').service).toMatchObject({name: 'web-np', via: 'nodePort'})
    expect(resolveDestination(plan, '10.244.1.2:8080')).toMatchObject({kind: 'pod', name: 'pod/default/web-1-1', protocol: 'tcp'})
    expect(resolveDestination(plan, '192.0.2.1')).toEqual({input: '192.0.2.1', kind: 'ip', ip: '192.0.2.1', protocol: 'icmp'})
  })
})
