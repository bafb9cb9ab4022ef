import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {isSafeHost, parseNodeMap, remoteAccessOptions} from '../../../../src/lib/cli/flags.js'
import type {ClusterEvidence} from '../../../../src/lib/gather/cluster/evidence.js'
import {catalogCommand, type CatalogCommand} from '../../../../src/lib/gather/node/catalog.js'
import {runCommand} from '../../../../src/lib/gather/node/run-command.js'
import {interpretSshOutcome, remoteCommandLine, sshArgv, sshTargets, SshTransport, usesSudo} from '../../../../src/lib/gather/node/ssh.js'
import type {ExecOutcome} from '../../../../src/lib/gather/node/transport.js'
import {KnetError} from '../../../../src/lib/report/errors.js'

const PREFIX = "env 'LC_ALL=C' 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'"
const links = catalogCommand('links') as CatalogCommand

function cluster(nodes: unknown[]): ClusterEvidence {
  return {
    source: 'objects-file',
    objects: {nodes, pods: [], services: [], endpointSlices: [], networkPolicies: [], daemonSets: [], kubeProxyConfigMap: null},
    ignoredKinds: {},
    errors: [],
  }
}

const node = (name: string, addresses: {type: string; address: string}[] = []) => ({metadata: {name}, status: {addresses}})

function outcome(partial: Partial<ExecOutcome>): ExecOutcome {
  return {execArgv: ['ssh'], exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false, truncated: false, notFound: false, ...partial}
}

describe('ssh argv', () => {
  it('runs ssh in batch mode with the catalogue argv as one quoted line after --', () => {
    expect(sshArgv('10.0.0.2', links.argv, {user: 'root'})).toEqual([
      'ssh', '-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', '-l', 'root', '--', '10.0.0.2',
      `${PREFIX} ip -j -d link show`,
    ])
  })

  it('puts sudo -n in front for a user that is not root, and honours --ssh-sudo', () => {
    expect(remoteCommandLine(links.argv, {user: 'ubuntu'})).toBe(`sudo -n ${PREFIX} ip -j -d link show`)
    expect(usesSudo({user: 'ubuntu'})).toBe(true)
    expect(usesSudo({user: 'root'})).toBe(false)
    expect(usesSudo({user: 'ubuntu', sudo: 'never'})).toBe(false)
    expect(usesSudo({user: 'root', sudo: 'always'})).toBe(true)
    const argv = sshArgv('node-1.example.com', links.argv, {user: 'ubuntu'})
    expect(argv.slice(argv.indexOf('-l'), argv.indexOf('-l') + 2)).toEqual(['-l', 'ubuntu'])
    expect(argv.at(-1)).toMatch(/^sudo -n env /)
  })

  it('without --ssh-user, decides sudo from the local user name (what ssh logs in as)', () => {
    const local = process.getuid?.() === 0 ? 'root' : 'other'
    expect(usesSudo({})).toBe(local !== 'root')
    expect(sshArgv('h', links.argv, {})).not.toContain('-l')
  })

  it('passes the identity (IdentitiesOnly) and the config file', () => {
    const argv = sshArgv('h', links.argv, {identity: '/k/id', config: '/k/cfg', connectTimeoutSeconds: 9})
    expect(argv).toContain('ConnectTimeout=9')
    expect(argv.join(' ')).toContain('-F /k/cfg -i /k/id -o IdentitiesOnly=yes -- h')
  })

  it('refuses hosts and users that ssh could read as options or that are not hosts', () => {
    for (const host of ['-oProxyCommand=touch /tmp/x', '', 'a b', 'a;b', 'h$(id)', '-h']) {
      expect(() => sshArgv(host, links.argv, {})).toThrow(/invalid ssh host/)
      expect(() => new SshTransport(host)).toThrow(/invalid ssh host/)
    }
    expect(() => new SshTransport('h', {user: '-oProxyCommand=x'})).toThrow(/invalid ssh user/)
  })

  it('never accepts a host that starts with "-" (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => !isSafeHost(`-${s}`)))
  })

  it('refuses argv outside the catalogue before ssh starts', async () => {
    const rogue: CatalogCommand = {id: 'x', argv: ['ip', 'link', 'del', 'eth0'], description: '', timeoutMs: 1000, maxBytes: 100}
    const r = await runCommand(new SshTransport('192.0.2.1', {user: 'root'}), rogue)
    expect(r.status).toBe('failed')
    expect(r.reason).toMatch(/refusing to run a command outside the catalogue/)
  })
})

describe('ssh outcomes', () => {
  it('turns ssh exit 255 into one line naming the host', () => {
    const o = interpretSshOutcome(outcome({exitCode: 255, stderr: 'ssh: connect to host 10.0.0.9 port 22: Connection refused\r\n'}), '10.0.0.9', false)
    expect(o.error).toBe('ssh to 10.0.0.9 failed: ssh: connect to host 10.0.0.9 port 22: Connection refused')
    expect(interpretSshOutcome(outcome({exitCode: 255, stderr: 'Host key verification failed.\n'}), 'h', false).error).toBe('ssh to h failed: Host key verification failed.')
  })

  it('reads exit 127 as a program missing on the node, unless sudo itself is missing', () => {
    expect(interpretSshOutcome(outcome({exitCode: 127, stderr: "env: 'ipvsadm': No such file or directory\n"}), 'h', true)).toMatchObject({notFound: true})
    for (const stderr of ['sh: 1: sudo: not found\n', 'bash: line 1: sudo: command not found\n', 'zsh:1: command not found: sudo\n']) {
      const noSudo = interpretSshOutcome(outcome({exitCode: 127, stderr}), 'h', true)
      expect(noSudo.notFound).toBe(false)
      expect(noSudo.error).toMatch(/^sudo is not installed on h/)
    }
    // sudo's own warning next to env's "not found" is still the tool missing.
    const warned = outcome({exitCode: 127, stderr: "sudo: unable to resolve host n1: Name or service not known\nenv: 'ipvsadm': No such file or directory\n"})
    expect(interpretSshOutcome(warned, 'h', true)).toEqual({...warned, notFound: true})
  })

  it('reports sudo refusing (no passwordless sudo) as a transport error, other sudo chatter as nothing', () => {
    expect(interpretSshOutcome(outcome({exitCode: 1, stderr: 'sudo: a password is required\n'}), 'h', true).error).toBe(
      'sudo -n on h refused: sudo: a password is required (knet needs passwordless sudo for its read-only commands)',
    )
    const chatter = outcome({exitCode: 1, stderr: 'sudo: unable to resolve host n1: Name or service not known\niptables-save v1.8.9: fail\n'})
    expect(interpretSshOutcome(chatter, 'h', true)).toEqual(chatter)
    // grep's own exit 2 for a missing sysctl file is the command's business, not the transport's.
    const grep = outcome({exitCode: 2, stderr: 'grep: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\n'})
    expect(interpretSshOutcome(grep, 'h', false)).toEqual(grep)
  })

  it('reads a missing local ssh client as a transport error, not as the tool missing on the node', () => {
    const o = interpretSshOutcome(outcome({exitCode: null, notFound: true}), 'h', false)
    expect(o).toMatchObject({notFound: false, error: 'ssh is not installed on this machine (--node-access ssh runs the OpenSSH client)'})
  })
})

describe('ssh targets', () => {
  it("takes each node's InternalIP, lets --ssh-host-map override it and add nodes", () => {
    const c = cluster([
      node('n1', [{type: 'Hostname', address: 'n1'}, {type: 'InternalIP', address: '10.0.0.1'}]),
      node('n2', [{type: 'InternalIP', address: '10.0.0.2'}]),
      node('n3', [{type: 'ExternalIP', address: '203.0.113.3'}]),
      node('-bad', [{type: 'InternalIP', address: '10.0.0.4'}]),
      node('n5', [{type: 'InternalIP', address: '-oProxyCommand=x'}]),
    ])
    const {targets, errors} = sshTargets(c, {hostMap: new Map([['n2', 'n2.example.com'], ['extra', '10.9.9.9']])}, true)
    expect(targets.map((t) => [t.name, t.transport.kind, t.transport.target])).toEqual([
      ['n1', 'ssh', '10.0.0.1'],
      ['n2', 'ssh', 'n2.example.com'],
      ['extra', 'ssh', '10.9.9.9'],
    ])
    expect(errors.map((e) => [e.node, e.kind])).toEqual([['n3', 'not-found'], ['-bad', 'bad-input'], ['n5', 'not-found']])
    expect(errors[0]?.message).toBe('node n3 has no InternalIP address to ssh to (--ssh-host-map n3=HOST)')
  })

  it('contacts only the selected nodes', () => {
    const c = cluster([node('n1', [{type: 'InternalIP', address: '10.0.0.1'}]), node('n2', [{type: 'InternalIP', address: '10.0.0.2'}])])
    expect(sshTargets(c, {only: new Set(['n2'])}, true).targets.map((t) => t.name)).toEqual(['n2'])
  })

  it('is a usage error with no nodes to reach', () => {
    expect(() => sshTargets(null, {})).toThrow(KnetError)
    expect(() => sshTargets(cluster([]), {})).toThrow(/--node-access ssh needs nodes/)
  })

  it('without an ssh client, records one clear collection error per node and contacts none', () => {
    const {targets, errors} = sshTargets(null, {hostMap: new Map([['n1', '10.0.0.1'], ['n2', '10.0.0.2']])}, false)
    expect(targets).toEqual([])
    expect(errors).toEqual(['n1', 'n2'].map((n) => ({node: n, source: 'node-access', kind: 'not-found', message: 'ssh is not installed on this machine (--node-access ssh runs the OpenSSH client)'})))
  })
})

describe('ssh flags', () => {
  it('--ssh-host-map takes host names and IPv4/IPv6 addresses, nothing else', () => {
    expect([...parseNodeMap('n1=10.0.0.1, n2=fd00::2,n3=n3.internal', 'ssh-host-map', {valid: isSafeHost, help: 'NODE=HOST (a host name or an IP address)'})]).toEqual([
      ['n1', '10.0.0.1'], ['n2', 'fd00::2'], ['n3', 'n3.internal'],
    ])
    for (const bad of ['n1=-oProxyCommand=x', 'n1=a b', 'n1=a;b', 'n1=', '-n=10.0.0.1', 'n1=host_.x']) {
      expect(() => parseNodeMap(bad, 'ssh-host-map', {valid: isSafeHost, help: 'NODE=HOST (a host name or an IP address)'})).toThrow(/--ssh-host-map: .* is not NODE=HOST/)
    }
  })

  it('ssh and docker flags apply only with their own --node-access', () => {
    expect(() => remoteAccessOptions({'node-access': 'netns', 'ssh-user': 'root'})).toThrow('--ssh-user only applies with --node-access ssh')
    expect(() => remoteAccessOptions({'ssh-host-map': new Map(), 'ssh-sudo': 'always'})).toThrow('--ssh-host-map, --ssh-sudo only apply with --node-access ssh')
    expect(() => remoteAccessOptions({'node-access': 'ssh', 'docker-container-map': new Map()})).toThrow(/--docker-container-map only applies with --node-access docker/)
    expect(remoteAccessOptions({'node-access': 'ssh', 'ssh-user': 'u', 'ssh-sudo': 'never'})).toEqual({ssh: {user: 'u', sudo: 'never'}})
    expect(remoteAccessOptions({'node-access': 'local'})).toEqual({})
  })
})
