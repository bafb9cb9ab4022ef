import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {renderTraceJson} from '../../../src/lib/render/trace-json.js'
import {pathLine, renderTraceTable} from '../../../src/lib/render/trace-table.js'
import {readSnapshot} from '../../../src/lib/snapshot/read.js'
import {parseEndpoint} from '../../../src/lib/trace/endpoints.js'
import {traceSnapshot} from '../../../src/lib/trace/path.js'

const vxlan = fileURLToPath(new URL('../trace/fixtures/lab-vxlan.json.gz', import.meta.url))

async function trace(src: string, dst: string) {
  return traceSnapshot(await readSnapshot(vxlan), {source: parseEndpoint(src, 'default'), destination: parseEndpoint(dst, 'default')})
}

describe('trace table', () => {
  it('a drop: the path with the failing hop marked, each hop with its evidence, the verdict with code and hop', async () => {
    const text = renderTraceTable(await trace('web-1-1', 'svc/default/empty'), {width: 120, color: false})
    expect(text).toBe(`pod/default/web-1-1 (10.244.1.2) → svc/default/empty (10.96.0.99:80) tcp
path: web-1-1 eth0 → veth1 → ✗ cbr0

 1  ok  web-1-1 eth0  (on node-1)
      leaves pod pod/default/web-1-1 by eth0 from 10.244.1.2
      └ Pod default/web-1-1: status.podIPs[0].ip: 10.244.1.2; spec.nodeName: node-1
 2  ok  veth1  (on node-1)
      10.244.1.2 (0a:58:0a:f4:01:02) is behind veth1, a forwarding port of cbr0
      └ node-1: ip -j neigh show: 10.244.1.2 dev cbr0 lladdr 0a:58:0a:f4:01:02 STALE
      └ node-1: bridge -j fdb show: 0a:58:0a:f4:01:02 dev veth1 master cbr0
      └ node-1: ip -j -d link show: 5: veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 master cbr0 state UP veth
        hairpin on link-netnsid 1
 3  FAIL (netfilter-reject)  cbr0  (on node-1)
      rejected (icmp-port-unreachable) in filter FORWARD
      └ node-1: iptables-save: nat line 32: :PREROUTING ACCEPT (policy ACCEPT)
      └ node-1: iptables-save: filter line 27: -A KUBE-SERVICES -d 10.96.0.99/32 -p tcp -m comment --comment
        "default/empty:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable (REJECT
        --reject-with icmp-port-unreachable)
      └ node-1: ip -j rule show / node-1: ip -j route show table all: 0: from all lookup local: no matching route in
        table local
      └ node-1: ip -j rule show / node-1: ip -j route show table all: 32766: from all lookup main: default via
        10.100.0.1 dev eth0
      └ node-1: grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding
        /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables:
        /proc/sys/net/ipv4/ip_forward:1

verdict: DROPPED — netfilter-reject at hop 3: node-1 rejects it in filter FORWARD (default/empty:http has no endpoints)`)
  })

  it('a Service: one path line per endpoint branch, the DNAT table and each branch’s verdict', async () => {
    const text = renderTraceTable(await trace('web-2-2', 'svc/default/dns'), {width: 120, color: false})
    const lines = text.split('\n')
    expect(lines.slice(0, 3)).toEqual([
      'pod/default/web-2-2 (10.244.2.3) → svc/default/dns (10.96.0.53:53) udp',
      'path: web-2-2 eth0 → veth2 → cbr0 → node-2 flannel.1 → 10.100.0.2 → node-1 flannel.1 → cbr0 → veth1 → web-1-1 eth0',
      'path: web-2-2 eth0 → veth2 → cbr0 → veth1 → web-2-1 eth0',
    ])
    expect(lines).toContain('DNAT (not masqueraded):')
    expect(lines).toContain('  10.244.1.2:5353  50.0%  pod/default/web-1-1')
    expect(lines).toContain('branch pod/default/web-2-1: DELIVERED')
    expect(lines.at(-1)).toBe('verdict: DELIVERED')
  })

  it('colour only when asked, and the JSON is the result as is', async () => {
    const r = await trace('web-1-1', 'web-2-1')
    expect(renderTraceTable(r, {width: 120, color: true})).toContain('\u001B[32mDELIVERED')
    expect(renderTraceTable(r, {width: 120, color: false})).not.toContain('\u001B[')
    expect(JSON.parse(renderTraceJson(r))).toEqual(JSON.parse(JSON.stringify(r)))
    expect(pathLine(r.hops)).toBe('web-1-1 eth0 → veth1 → cbr0 → node-1 flannel.1 → 10.100.0.3 → node-2 flannel.1 → cbr0 → veth1 → web-2-1 eth0')
  })
})
