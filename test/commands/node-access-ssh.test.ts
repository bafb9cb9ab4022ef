/**
 * `--node-access ssh` against a real OpenSSH server (Debian's openssh-server) running inside a
 * test namespace that plays a node, reached from the root namespace over a veth pair. The
 * evidence read over ssh must be what `--node-access netns` reads from the same namespace.
 */
import {execFile, execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {catalogCommand, type CatalogCommand} from '../../src/lib/gather/node/catalog.js'
import {gatherNodes} from '../../src/lib/gather/node/gather-node.js'
import {NetnsTransport} from '../../src/lib/gather/node/netns.js'
import {interpretSshOutcome, sshArgv, SshTransport} from '../../src/lib/gather/node/ssh.js'
import {PARSERS, type EvidenceId} from '../../src/lib/model/node-evidence.js'
import {parseNftJson} from '../../src/lib/parse/nft.js'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import type {CommandResult, NodeEvidence} from '../../src/lib/snapshot/schema.js'
import {knetAsync} from '../helpers/cli.js'
import {describeNetns, TestNetns} from '../helpers/netns.js'
import {baseForOtherUsers} from '../helpers/other-user.js'
import {TestSshd, vethIntoNetns} from '../helpers/sshd.js'
import {RUN_SUFFIX} from '../helpers/unique.js'

const run = promisify(execFile)

// A kube-proxy-like nat table, so netfilter evidence is not empty.
const IPTABLES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-CCCCCCCCCCCCCCCC - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CCCCCCCCCCCCCCCC
-A KUBE-SVC-CCCCCCCCCCCCCCCC -p tcp -m tcp -j DNAT --to-destination 10.244.1.2:8080
COMMIT
`

// Evidence that changes because ssh itself talks to the namespace: ARP/neighbour states and the
// ssh connections' own conntrack entries; netfilter packet counters and timestamps are normalised.
const VOLATILE = new Set<EvidenceId>(['neigh', 'conntrack', 'conntrack6'])
const normalise = (id: string, text: string) =>
  /tables-save$/.test(id)
    ? text.replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, '[0:0]')
    : id === 'nft' || id.startsWith('nft-table:')
      ? text.replace(/"(packets|bytes)":\s*\d+/g, '"$1":0')
      : text

/** The parser of a result: the catalogue's, or nft's JSON one for the nft listings (`nft-chains`, `nft-table:FAMILY:NAME`). */
function parserOf(id: string): ((text: string) => {value: unknown; problems: unknown[]}) | undefined {
  if (id === 'nft-chains' || id.startsWith('nft-table:')) return parseNftJson
  return id in PARSERS ? PARSERS[id as EvidenceId] : undefined
}

function problemsOf(r: CommandResult): unknown[] {
  if (r.status !== 'ok') return []
  return parserOf(r.id)?.(r.stdout).problems ?? []
}

function nodeOf(nodes: NodeEvidence[], name: string): NodeEvidence {
  const node = nodes.find((n) => n.name === name)
  if (!node) throw new Error(`no evidence for ${name}`)
  return node
}

const parsed = (r: CommandResult): unknown => {
  const parse = parserOf(r.id)
  if (!parse) throw new Error(`no parser for ${r.id}`)
  return parse(normalise(r.id, r.stdout)).value
}

/** Same status, the same parsed evidence (routes, links, rules, …) and no parse problems, command by command. */
function expectSameEvidence(viaSsh: CommandResult[], viaNetns: CommandResult[]): void {
  expect(viaSsh.map((r) => [r.id, r.status])).toEqual(viaNetns.map((r) => [r.id, r.status]))
  for (const [i, r] of viaSsh.entries()) {
    const n = viaNetns[i] as CommandResult
    expect(problemsOf(r), r.id).toEqual([])
    expect(problemsOf(n), r.id).toEqual([])
    // Parsed, not raw: a bridge's running timers differ between any two reads of `ip -d link`.
    if (r.status === 'ok' && !VOLATILE.has(r.id as EvidenceId)) expect(parsed(r), r.id).toEqual(parsed(n))
  }
}

describeNetns(
  'node access over ssh against a real sshd in a namespace',
  () => {
    let sshdIp: string
    // Assigned in the namespace, but nothing listens there: ssh is refused at once.
    let deadIp: string
    let ns: TestNetns
    let sshd: TestSshd
    let removeVeth: () => void
    let dir: string
    let objects: string

    beforeAll(async () => {
      ns = TestNetns.create('ssh')
      ns.run(['ip', 'link', 'add', 'cbr0', 'type', 'bridge'])
      ns.run(['ip', 'addr', 'add', '10.244.1.1/24', 'dev', 'cbr0'])
      ns.run(['ip', 'link', 'set', 'cbr0', 'up'])
      ns.run(['iptables-restore'], IPTABLES)
      const veth = vethIntoNetns(ns, [2, 3])
      removeVeth = veth.remove
      sshdIp = veth.address(2)
      deadIp = veth.address(3)
      ns.run(['ip', 'route', 'add', '10.244.2.0/24', 'via', veth.address(1)])
      // The two ways in read the namespace at different moments: nothing in it may still be
      // changing by itself (an IPv6 address finishing duplicate address detection gains its local
      // route in between), so the test starts once it is settled.
      ns.settle()
      sshd = await TestSshd.start(ns, sshdIp)
      sshd.openSharedConnection()
      dir = mkdtempSync(join(tmpdir(), 'knet-ssh-test-'))
      objects = join(dir, 'nodes.json')
      const node = (name: string, ip: string) => ({apiVersion: 'v1', kind: 'Node', metadata: {name}, status: {addresses: [{type: 'InternalIP', address: ip}]}})
      // node-2's InternalIP is a documentation address: --ssh-host-map must win over it.
      writeFileSync(objects, JSON.stringify({apiVersion: 'v1', kind: 'List', items: [node('node-1', sshdIp), node('node-2', '192.0.2.99')]}))
    })

    afterAll(async () => {
      await sshd?.stop()
      removeVeth?.()
      ns?.destroy()
      if (dir) rmSync(dir, {recursive: true, force: true})
    })

    it('snapshot over ssh holds the evidence netns reads; an unreachable node is a collection error and the other still gathers', async () => {
      const [ssh, netns] = await Promise.all([
        knetAsync(['snapshot', '--node-access', 'ssh', '--objects', objects, '--ssh-config', sshd.clientConfig, '--ssh-host-map', `node-2=${deadIp}`, '-o', join(dir, 'ssh.json'), '--json']),
        knetAsync(['snapshot', '--node-access', 'netns', '--no-cluster', '--netns-map', `node-1=${ns.name}`, '-o', join(dir, 'netns.json'), '--json']),
      ])
      expect(netns.status, netns.stderr).toBe(0)
      // node-2 could not be read: exit 3, and the snapshot is still written.
      expect(ssh.status, ssh.stderr).toBe(3)
      const viaSsh = await readSnapshot(join(dir, 'ssh.json'))
      const viaNetns = await readSnapshot(join(dir, 'netns.json'))
      expect(viaSsh.meta.nodeAccess).toBe('ssh')

      const node1 = nodeOf(viaSsh.nodes, 'node-1')
      expect(node1.access).toEqual({kind: 'ssh', target: sshdIp})
      expectSameEvidence(node1.results, nodeOf(viaNetns.nodes, 'node-1').results)
      expect(node1.results.find((r) => r.id === 'routes4')?.stdout).toContain('10.244.2.0/24')
      expect(node1.results.find((r) => r.id === 'iptables-save')?.stdout).toContain('KUBE-SVC-CCCCCCCCCCCCCCCC')
      // Run as root here with the config's User root: no sudo, the catalogue argv quoted after --.
      expect(node1.results.find((r) => r.id === 'rp-filter')?.execArgv).toEqual([
        'ssh', '-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', '-F', sshd.clientConfig, '--', sshdIp,
        "env 'LC_ALL=C' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' grep -r -H '--include=rp_filter' . /proc/sys/net/ipv4/conf",
      ])

      const node2 = nodeOf(viaSsh.nodes, 'node-2')
      expect(node2.access).toEqual({kind: 'ssh', target: deadIp})
      const refused = `ssh to ${deadIp} failed: ssh: connect to host ${deadIp} port 22: Connection refused`
      expect(new Set(node2.results.map((r) => `${r.status}: ${r.reason}`))).toEqual(new Set([`failed: ${refused}`]))
      expect(new Set(viaSsh.collectionErrors.map((e) => e.node))).toEqual(new Set(['node-2']))
      expect(viaSsh.collectionErrors[0]?.message).toContain(refused)
    })

    it('doctor reaches only the selected nodes over ssh and reports the unreachable one as a collection error', async () => {
      const r = await knetAsync(['doctor', '--node-access', 'ssh', '--objects', objects, '--ssh-config', sshd.clientConfig, '--ssh-host-map', `node-2=${deadIp}`, '--nodes', 'node-2', '-o', 'json'])
      const report = JSON.parse(r.stdout) as {collectionErrors: {node?: string; message: string}[]}
      expect(new Set(report.collectionErrors.map((e) => e.node))).toEqual(new Set(['node-2']))
      expect(report.collectionErrors.every((e) => e.message.includes(`ssh to ${deadIp} failed`))).toBe(true)
      expect(r.status).toBe(3)
    })

    it('refuses a host that is not a host name or address with one line and exit 2', async () => {
      const badHost = await knetAsync(['snapshot', '--node-access', 'ssh', '--no-cluster', '--ssh-host-map', 'node-1=-oProxyCommand=sh', '-o', join(dir, 'x.json')])
      expect(badHost.status).toBe(2)
      expect(badHost.stderr.trim().split('\n')).toHaveLength(1)
      expect(badHost.stderr).toContain('--ssh-host-map: "node-1=-oProxyCommand=sh" is not NODE=HOST')
    })

    it('a remote command line survives ssh and the login shell word for word (property, through the real sshd)', async () => {
      const word = fc
        .string({unit: fc.constantFrom('a', ' ', "'", '"', '\\', '$', '`', '*', ';', '&', '|', '\n', '\t', '!', '#', '~', '=', '-', 'é'), maxLength: 10})
        .filter((w) => !/\p{Cs}/u.test(w))
      await fc.assert(
        fc.asyncProperty(fc.array(word, {minLength: 1, maxLength: 6}), async (words) => {
          // printf is not a catalogue command: this drives the argv builder directly, not a transport.
          const argv = sshArgv(sshdIp, ['printf', '%s\\0', ...words], {config: sshd.clientConfig, sudo: 'never'})
          const {stdout} = await run(argv[0] as string, argv.slice(1), {encoding: 'utf8'})
          expect(stdout.split('\0').slice(0, -1)).toEqual(words)
        }),
        {numRuns: 5},
      )
    })

    it('a program missing on the node comes back as exit 127 and reads as not found, with and without sudo', async () => {
      for (const sudo of ['never', 'always'] as const) {
        // Not a catalogue command (none is missing here): the argv builder and the outcome mapping, for real.
        const argv = sshArgv(sshdIp, ['knet-no-such-tool', '-j'], {config: sshd.clientConfig, sudo})
        const r = await run(argv[0] as string, argv.slice(1), {encoding: 'utf8'}).then(
          () => ({code: 0, stderr: ''}),
          (error: {code?: number; stderr?: string}) => ({code: error.code ?? -1, stderr: error.stderr ?? ''}),
        )
        expect(r.code, r.stderr).toBe(127)
        const raw = {execArgv: argv, exitCode: r.code, stdout: '', stderr: r.stderr, durationMs: 0, timedOut: false, truncated: false, notFound: false}
        expect(interpretSshOutcome(raw, sshdIp, sudo === 'always')).toEqual({...raw, notFound: true})
      }
    })

    // A real non-root login: a throwaway user (removed afterwards) with passwordless sudo, so the
    // sudo path runs for real; then the sudoers rule is taken away and sudo -n must say so.
    // The user is this test process's own (another test run on the machine has its own), and
    // sshd's folder must be one it can reach (a checkout or temp folder may be closed to others).
    const cannotSudo = !(existsSync('/usr/bin/sudo') && existsSync('/usr/sbin/useradd') && existsSync('/etc/sudoers.d'))
      ? 'needs sudo, useradd and /etc/sudoers.d'
      : baseForOtherUsers() === undefined
        ? `neither ${tmpdir()} nor /tmp can be reached by other users`
        : undefined
    describe.skipIf(cannotSudo !== undefined)(`as a non-root user with sudo${cannotSudo ? ` [skipped: ${cannotSudo}]` : ''}`, () => {
      const user = `knet-t-ssh-${RUN_SUFFIX}`
      const sudoers = `/etc/sudoers.d/${user}`
      const removeUser = () => {
        rmSync(sudoers, {force: true})
        try {
          // --force: the user's sshd session may still be open (a shared connection); sshd's stop ends it.
          execFileSync('userdel', ['--force', user], {stdio: 'ignore'})
        } catch {
          // not there
        }
      }
      beforeAll(() => {
        removeUser()
        // '*' rather than useradd's '!': sshd refuses a locked account even for key logins.
        execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', '--password', '*', user])
        writeFileSync(sudoers, `${user} ALL=(root) NOPASSWD: ALL\n`, {mode: 0o440})
        sshd.openSharedConnection(user)
      })
      afterAll(removeUser)

      const commands = ['links', 'routes4', 'iptables-save', 'sysctls'].map((id) => catalogCommand(id) as CatalogCommand)

      it('logs in as the user and runs each command under sudo -n, reading what netns reads', async () => {
        const [viaSsh, viaNetns] = await Promise.all([
          gatherNodes([{name: 'node-1', transport: new SshTransport(sshdIp, {user, config: sshd.clientConfig})}], {commands}),
          gatherNodes([{name: 'node-1', transport: new NetnsTransport(ns.name)}], {commands}),
        ])
        expect(viaSsh.errors).toEqual([])
        const results = viaSsh.nodes[0]?.results ?? []
        expectSameEvidence(results, viaNetns.nodes[0]?.results ?? [])
        for (const r of results) {
          expect(r.execArgv.slice(r.execArgv.indexOf('-l'), r.execArgv.indexOf('-l') + 2)).toEqual(['-l', user])
          expect(r.execArgv.at(-1)).toMatch(/^sudo -n env 'LC_ALL=C' /)
        }
        // iptables-save needs root: its rules came back through sudo.
        expect(results.find((r) => r.id === 'iptables-save')?.stdout).toContain('KUBE-SVC-CCCCCCCCCCCCCCCC')
      })

      it('without passwordless sudo, says so once per command instead of prompting', async () => {
        rmSync(sudoers, {force: true})
        const {nodes, errors} = await gatherNodes([{name: 'node-1', transport: new SshTransport(sshdIp, {user, config: sshd.clientConfig})}], {commands})
        const reasons = new Set(nodes[0]?.results.map((r) => `${r.status}: ${r.reason}`))
        expect(reasons).toEqual(new Set([`failed: sudo -n on ${sshdIp} refused: sudo: a password is required (knet needs passwordless sudo for its read-only commands)`]))
        expect(errors).toHaveLength(commands.length)
      })
    })
  },
  ['ssh', 'ssh-keygen', 'sshd', 'iptables-restore'],
)
