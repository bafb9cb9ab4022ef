import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {activeCniConf, parseCniConfDir, type CniConfFile} from '../../../src/lib/parse/cni-conf.js'
import {fuzzParser} from '../../helpers/fuzz.js'
import {describeNetns, TestNetns} from '../../helpers/netns.js'

/*
 * Hand-written CNI configs (they are configuration, not command output), following each
 * project's documented defaults: the containernetworking bridge + host-local example,
 * kube-flannel.yml's cni-conf.json, and calico.yaml's cni_network_config.
 */
const BRIDGE = `{
  "cniVersion": "0.4.0",
  "name": "cbr0",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "mtu": 1450,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "10.244.1.0/24"}], [{"subnet": "fd00:244:1::/64"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`
const FLANNEL = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
`
const CALICO = `{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "calico",
      "log_level": "info",
      "log_file_path": "/var/log/calico/cni/cni.log",
      "datastore_type": "kubernetes",
      "nodename": "node-1",
      "mtu": 0,
      "ipam": {"type": "calico-ipam"},
      "policy": {"type": "k8s"},
      "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}
    },
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}},
    {"type": "bandwidth", "capabilities": {"bandwidth": true}}
  ]
}
`
const LOOPBACK_CONF = '{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}\n'
const OLD_BRIDGE_CONF = '{"cniVersion":"0.3.1","name":"kubenet","type":"bridge","bridge":"cbr0","mtu":1460,"ipam":{"type":"host-local","subnet":"10.64.3.5/24"}}\n'
const BROKEN = '{\n  "name": "broken",\n  "plugins": [\n'

/** Write files into a directory and run the exact gather command over it (no root needed). */
function grepDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'knet-cni-'))
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
    return execFileSync('grep', ['-r', '-H', '-n', '-e', '', dir], {encoding: 'utf8'}).replaceAll(dir, '/etc/cni/net.d')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

function summary(files: CniConfFile[]): unknown[] {
  return files.map((f) => ({name: f.name, invalid: f.invalid, plugins: f.parsed?.plugins.map(({raw: _raw, ...p}) => p)}))
}

describe('parseCniConfDir', () => {
  it('reads a bridge conflist with host-local ranges (dual stack)', () => {
    const {value, problems} = parseCniConfDir(grepDir({'10-bridge.conflist': BRIDGE}))
    expect(problems).toEqual([])
    expect(value).toHaveLength(1)
    expect(value[0]?.content).toBe(BRIDGE.slice(0, -1))
    expect(value[0]?.parsed?.name).toBe('cbr0')
    expect(value[0]?.parsed?.cniVersion).toBe('0.4.0')
    expect(summary(value)).toEqual([
      {
        name: '10-bridge.conflist',
        invalid: undefined,
        plugins: [
          {type: 'bridge', bridge: 'cni0', mtu: 1450, isGateway: true, ipMasq: true, hairpinMode: true, ipamType: 'host-local', subnets: ['10.244.1.0/24', 'fd00:244:1::/64']},
          {type: 'portmap'},
        ],
      },
    ])
  })

  it('orders files as libcni does, picks the first valid one, and reports the broken one by path', () => {
    const text = grepDir({
      '10-flannel.conflist': FLANNEL,
      '05-broken.conflist': BROKEN,
      '99-loopback.conf': LOOPBACK_CONF,
      '10-calico.conflist': CALICO,
      'calico-kubeconfig': 'apiVersion: v1\nkind: Config\n',
      '20-kubenet.json': OLD_BRIDGE_CONF,
    })
    const {value, problems} = parseCniConfDir(text)
    expect(value.map((f) => f.name)).toEqual(['05-broken.conflist', '10-calico.conflist', '10-flannel.conflist', '20-kubenet.json', '99-loopback.conf', 'calico-kubeconfig'])
    expect(activeCniConf(value)?.name).toBe('10-calico.conflist')
    expect(problems).toHaveLength(1)
    expect(problems[0]?.message).toMatch(/^cni conf: \/etc\/cni\/net.d\/05-broken.conflist: invalid JSON/)
    // The problem's line is the broken file's first line in the grep output.
    expect(text.split('\n')[(problems[0]?.line ?? 0) - 1]).toBe('/etc/cni/net.d/05-broken.conflist:1:{')
    expect(summary(value)).toEqual([
      {name: '05-broken.conflist', invalid: expect.stringMatching(/^invalid JSON/) as string, plugins: undefined},
      {name: '10-calico.conflist', invalid: undefined, plugins: [{type: 'calico', mtu: 0, ipamType: 'calico-ipam'}, {type: 'portmap'}, {type: 'bandwidth'}]},
      {name: '10-flannel.conflist', invalid: undefined, plugins: [{type: 'flannel', hairpinMode: true, isDefaultGateway: true}, {type: 'portmap'}]},
      {name: '20-kubenet.json', invalid: undefined, plugins: [{type: 'bridge', bridge: 'cbr0', mtu: 1460, ipamType: 'host-local', subnets: ['10.64.3.0/24']}]},
      {name: '99-loopback.conf', invalid: undefined, plugins: [{type: 'loopback'}]},
      {name: 'calico-kubeconfig', invalid: 'not a .conf, .conflist or .json file', plugins: undefined},
    ])
    expect(value.find((f) => f.name === '99-loopback.conf')?.parsed).toEqual({name: 'lo', cniVersion: '0.3.1', isList: false, plugins: [{type: 'loopback', raw: JSON.parse(LOOPBACK_CONF)}]})
  })

  it('reassembles lines by number, not by order, and notices gaps', () => {
    const text = '/e/a.conf:2:  "type": "x", "name": "n"\n/e/a.conf:1:{\n/e/a.conf:3:}\n/e/b.conf:2:}\n'
    const {value, problems} = parseCniConfDir(text)
    expect(value[0]?.content).toBe('{\n  "type": "x", "name": "n"\n}')
    expect(value[0]?.parsed?.plugins.map((p) => p.type)).toEqual(['x'])
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [4, 'cni conf: /e/b.conf: lines missing from capture (1 of 2)'],
      [4, 'cni conf: /e/b.conf: invalid JSON: ' + jsonError('\n}')],
    ])
  })

  it('absurd line numbers (a corrupted capture) do not allocate the gap', () => {
    const {value, problems} = parseCniConfDir('/e/a.conf:99999999999999:{"name":"n","type":"bridge"}\n')
    expect(value[0]?.content).toBe('{"name":"n","type":"bridge"}')
    expect(problems.map((p) => p.message)).toEqual(['cni conf: /e/a.conf: lines missing from capture (1 of 99999999999999)'])
  })

  it('flags conflists without name or plugins and lines that are not grep -n output', () => {
    const {value, problems} = parseCniConfDir('/e/a.conflist:1:{"plugins":[{"type":"bridge"}]}\n/e/b.conflist:1:{"name":"n","plugins":[{"bridge":"x"}]}\nBinary file /e/c matches\n')
    expect(value.map((f) => f.invalid)).toEqual(['conflist has no "name"', 'conflist has no usable plugins'])
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'cni conf: expected "PATH:LINE:CONTENT" (grep -r -H -n)'],
      [1, 'cni conf: /e/a.conflist: conflist has no "name"'],
      [2, 'cni conf: /e/b.conflist: plugin 0 has no "type"'],
    ])
  })

  it('never throws (fuzz)', async () => {
    await fuzzParser([grepDir({'10-bridge.conflist': BRIDGE, '10-flannel.conflist': FLANNEL}), grepDir({'10-calico.conflist': CALICO, '99-loopback.conf': LOOPBACK_CONF})], parseCniConfDir)
  })
})

function jsonError(text: string): string {
  try {
    JSON.parse(text)
    return ''
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * `ip netns exec` binds /etc/netns/NAME/cni over /etc/cni only if /etc/cni exists on the host, so
 * a test creates it when missing (with a marker saying a test did) and the last test using it
 * removes it. Another test run on the machine may be doing the same at the same moment: both steps
 * run under one lock (flock on the /etc folder itself, which always exists, so no lock file is
 * left or raced over), and /etc/cni goes only once no /etc/netns/<namespace>/cni is left: it is
 * never removed under a run that still reads it.
 */
const ETC_CNI_MARKER = '/etc/cni/.knet-test-created'

function underEtcLock(script: string, ...args: string[]): void {
  execFileSync('flock', ['/etc', 'sh', '-c', script, 'sh', ...args], {stdio: ['ignore', 'ignore', 'pipe']})
}

describeNetns('parseCniConfDir through ip netns exec (/etc/netns/NAME/cni bind mount)', () => {
  let ns: TestNetns | undefined
  let etcNetnsDir = ''
  beforeAll(() => {
    ns = TestNetns.create('cni')
    etcNetnsDir = `/etc/netns/${ns.name}`
    underEtcLock('mkdir -p "$1/cni/net.d" && { [ -d /etc/cni ] || { mkdir /etc/cni && : > "$2"; }; }', etcNetnsDir, ETC_CNI_MARKER)
    writeFileSync(`${etcNetnsDir}/cni/net.d/10-bridge.conflist`, BRIDGE)
    writeFileSync(`${etcNetnsDir}/cni/net.d/99-loopback.conf`, LOOPBACK_CONF)
  })
  afterAll(() => {
    if (etcNetnsDir) {
      underEtcLock(
        [
          'rm -rf "$1"',
          // Another run's namespace still binds over /etc/cni: leave it to that run.
          'if [ -e "$2" ] && ! ls -d /etc/netns/*/cni >/dev/null 2>&1; then rm -f "$2" && rmdir /etc/cni; fi',
          'rmdir /etc/netns 2>/dev/null || true',
        ].join('; '),
        etcNetnsDir,
        ETC_CNI_MARKER,
      )
    }
    ns?.destroy()
  })

  it('reads the namespace view of /etc/cni/net.d', () => {
    const out = (ns as TestNetns).run(['grep', '-r', '-H', '-n', '-e', '', '/etc/cni/net.d'])
    const {value, problems} = parseCniConfDir(out)
    expect(problems).toEqual([])
    expect(value.map((f) => f.path)).toEqual(['/etc/cni/net.d/10-bridge.conflist', '/etc/cni/net.d/99-loopback.conf'])
    expect(activeCniConf(value)?.parsed?.plugins[0]?.subnets).toEqual(['10.244.1.0/24', 'fd00:244:1::/64'])
  })
}, ['flock'])
