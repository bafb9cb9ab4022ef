/**
 * trace --probe on a live cluster sends its packet with fixed argv templates. These tests pin the
 * templates, prove that nothing typed by a user can become shell code (the bash template runs for
 * real here with hostile "addresses" and leaves no trace), and read each tool's real words
 * (OpenBSD nc, busybox nc, curl, GNU and busybox wget, bash, iputils ping, containerd) back into
 * the lab prober's outcomes.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BASH_TCP_SCRIPT, BASH_UDP_SCRIPT, isProbeArgv, probeArgv, readToolRun, TOOL_ORDER, validTarget, type ToolRun} from '../../../src/lib/trace/probe-exec-argv.js'

const tcp = {protocol: 'tcp' as const, ip: '10.244.2.2', port: 8080}
const run = (r: Partial<ToolRun>): ToolRun => ({stdout: '', stderr: '', exitCode: 1, timedOut: false, ...r})

describe('probe argv templates', () => {
  it('are fixed argv arrays filled only with the validated address, port and wait', () => {
    expect(TOOL_ORDER).toEqual({tcp: ['nc', 'curl', 'wget', 'bash'], udp: ['nc', 'bash'], icmp: ['ping']})
    expect(probeArgv('nc', tcp)).toEqual(['nc', '-v', '-w', '2', '10.244.2.2', '8080'])
    expect(probeArgv('nc', {...tcp, protocol: 'udp'})).toEqual(['nc', '-u', '-w', '2', '10.244.2.2', '8080'])
    expect(probeArgv('curl', tcp)).toEqual(['curl', '-sSv', '--connect-timeout', '2', '--max-time', '3', 'telnet://10.244.2.2:8080'])
    expect(probeArgv('wget', tcp)).toEqual(['wget', '-t', '1', '-T', '2', '-O', '/dev/null', 'http://10.244.2.2:8080/'])
    expect(probeArgv('bash', tcp)).toEqual(['bash', '-c', BASH_TCP_SCRIPT, 'knet-probe', '10.244.2.2', '8080', '2'])
    expect(probeArgv('bash', {...tcp, protocol: 'udp'})).toEqual(['bash', '-c', BASH_UDP_SCRIPT, 'knet-probe', '10.244.2.2', '8080', '2'])
    expect(probeArgv('ping', {protocol: 'icmp', ip: '10.244.2.2', port: null})).toEqual(['ping', '-c', '1', '-W', '2', '10.244.2.2'])
    expect(probeArgv('ping', {protocol: 'icmp', ip: '10.244.2.2', port: null, size: 1423})).toEqual(['ping', '-c', '1', '-W', '2', '-s', '1423', '-M', 'do', '10.244.2.2'])
    // A tool that cannot send the protocol is not asked to.
    expect([probeArgv('curl', {...tcp, protocol: 'udp'}), probeArgv('ping', tcp), probeArgv('nc', {protocol: 'icmp', ip: '10.0.0.1', port: null})]).toEqual([undefined, undefined, undefined])
    // trace --source-port: only nc and curl can send from a given port; wget and bash are then no candidates.
    const pinned = {...tcp, sourcePort: 40_000}
    expect(probeArgv('nc', pinned)).toEqual(['nc', '-v', '-p', '40000', '-w', '2', '10.244.2.2', '8080'])
    expect(probeArgv('nc', {...pinned, protocol: 'udp'})).toEqual(['nc', '-u', '-p', '40000', '-w', '2', '10.244.2.2', '8080'])
    expect(probeArgv('curl', pinned)).toEqual(['curl', '-sSv', '--local-port', '40000', '--connect-timeout', '2', '--max-time', '3', 'telnet://10.244.2.2:8080'])
    expect([probeArgv('wget', pinned), probeArgv('bash', pinned)]).toEqual([undefined, undefined])
    expect([isProbeArgv(probeArgv('nc', pinned) as string[]), isProbeArgv(probeArgv('curl', pinned) as string[])]).toEqual([true, true])
    // The bash scripts are constants: no address, port or other input is ever inside them.
    for (const script of [BASH_TCP_SCRIPT, BASH_UDP_SCRIPT]) expect(script).not.toMatch(/\d+\.\d+\.\d+\.\d+|8080/)
  })

  it('take an IPv6 address: nc -6, ping -6, a bracketed URL (curl with --globoff), bash as is', () => {
    const six = {protocol: 'tcp' as const, ip: 'fd00:10:244:2::2', port: 8080}
    expect(probeArgv('nc', six)).toEqual(['nc', '-6', '-v', '-w', '2', 'fd00:10:244:2::2', '8080'])
    expect(probeArgv('nc', {...six, protocol: 'udp', sourcePort: 40_000})).toEqual(['nc', '-6', '-u', '-p', '40000', '-w', '2', 'fd00:10:244:2::2', '8080'])
    expect(probeArgv('curl', six)).toEqual(['curl', '-sSv', '--globoff', '--connect-timeout', '2', '--max-time', '3', 'telnet://[fd00:10:244:2::2]:8080'])
    expect(probeArgv('wget', six)).toEqual(['wget', '-t', '1', '-T', '2', '-O', '/dev/null', 'http://[fd00:10:244:2::2]:8080/'])
    expect(probeArgv('bash', six)).toEqual(['bash', '-c', BASH_TCP_SCRIPT, 'knet-probe', 'fd00:10:244:2::2', '8080', '2'])
    expect(probeArgv('ping', {protocol: 'icmp', ip: 'fd00:10:244:2::2', port: null, size: 1400})).toEqual(['ping', '-6', '-c', '1', '-W', '2', '-s', '1400', '-M', 'do', 'fd00:10:244:2::2'])
    // Each is recognised exactly, as the IPv4 ones are; an IPv6 URL without brackets is not a template.
    const all = [...(['nc', 'curl', 'wget', 'bash'] as const).map((tool) => probeArgv(tool, six)), probeArgv('nc', {...six, protocol: 'udp'}), probeArgv('ping', {protocol: 'icmp', ip: '::1', port: null})]
    expect(all.map((argv) => isProbeArgv(argv as string[]))).toEqual([true, true, true, true, true, true])
    expect(isProbeArgv(['curl', '-sSv', '--globoff', '--connect-timeout', '2', '--max-time', '3', 'telnet://fd00::2:8080'])).toBe(false)
    expect(isProbeArgv(['nc', '-v', '-w', '2', 'fd00::2', '8080'])).toBe(false)
  })

  it('refuse anything but an IPv4 or IPv6 address (no zone), a port 1–65535 and a sane size', () => {
    for (const ip of ['10.0.0.1; touch /tmp/x', '$(touch /tmp/x)', '10.0.0.1 -e /bin/sh', '-e', 'example.com', 'fe80::1%eth0', '[::1]', 'fd00::1 -e', '10.0.0.256', '']) {
      expect(() => validTarget({...tcp, ip}), ip).toThrow(/not an IPv4 or IPv6 address/)
      expect(() => probeArgv('bash', {...tcp, ip}), ip).toThrow(/not an IPv4 or IPv6 address/)
    }
    for (const port of [0, 65_536, 1.5, null]) expect(() => validTarget({...tcp, port}), String(port)).toThrow(/not a port/)
    expect(() => validTarget({protocol: 'icmp', ip: '10.0.0.1', port: null, size: -1})).toThrow(/not a size/)
  })

  it('are recognised exactly (the lab serves only these in workload pods), variations are not', () => {
    for (const tool of ['nc', 'curl', 'wget', 'bash'] as const) expect(isProbeArgv(probeArgv(tool, tcp) as string[]), tool).toBe(true)
    expect(isProbeArgv(probeArgv('ping', {protocol: 'icmp', ip: '10.0.0.9', port: null, size: 100}) as string[])).toBe(true)
    expect(isProbeArgv(['nc', '-v', '-w', '2', '10.244.2.2', '8080', '-e', '/bin/sh'])).toBe(false)
    expect(isProbeArgv(['bash', '-c', 'rm -rf /', 'knet-probe', '10.244.2.2', '8080', '2'])).toBe(false)
    expect(isProbeArgv(['nc', '-v', '-w', '2', '$(id)', '8080'])).toBe(false)
    expect(isProbeArgv(['sh', '-c', 'id'])).toBe(false)
    expect(isProbeArgv([])).toBe(false)
  })
})

describe('bash /dev/tcp: the address and port are positional parameters, never shell code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-probe-bash-'))
  let server: Server
  let port = 0
  beforeAll(async () => {
    server = createServer((s) => s.end('pod-b\n'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    port = (server.address() as {port: number}).port
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, {recursive: true, force: true})
  })
  // Asynchronous: the server answering it lives in this process.
  const bash = (argv: string[]): Promise<{status: number | null; stdout: string; stderr: string}> =>
    new Promise((resolve) => {
      const child = spawn(argv[0] as string, argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000})
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('close', (status) => resolve({status, stdout, stderr}))
    })

  it('connects with the template as built, and reads the reply', async () => {
    const argv = probeArgv('bash', {protocol: 'tcp', ip: '127.0.0.1', port}) as string[]
    const r = await bash(argv)
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'pod-b\n', 'knet-probe: connected\n'])
    expect(readToolRun('bash', 'tcp', run({stdout: r.stdout, stderr: r.stderr, exitCode: r.status}))).toEqual({usable: true, outcome: 'delivered', answer: 'pod-b'})
    // The template's last three words are the only inputs; bash sees them as $1 $2 $3.
    expect(argv.slice(4)).toEqual(['127.0.0.1', String(port), '2'])
  })

  it('hostile words in the address or port positions (even past validation) run nothing', async () => {
    const marker = join(dir, 'pwned')
    for (const hostile of [`$(touch ${marker})`, `\`touch ${marker}\``, `x; touch ${marker}`, `127.0.0.1/${port}"; touch ${marker}; "`]) {
      // Straight into the real template, bypassing validTarget, as the worst case.
      const r = await bash(['bash', '-c', BASH_TCP_SCRIPT, 'knet-probe', hostile, String(port), '1'])
      expect(r.status, hostile).not.toBe(0)
      const p = await bash(['bash', '-c', BASH_TCP_SCRIPT, 'knet-probe', '127.0.0.1', hostile, '1'])
      expect(p.status, hostile).not.toBe(0)
      expect(existsSync(marker), hostile).toBe(false)
    }
  })

  it('a refused connection is read as refused', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()))
    const free = (closed.address() as {port: number}).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const r = await bash(probeArgv('bash', {protocol: 'tcp', ip: '127.0.0.1', port: free}) as string[])
    expect(r.status).toBe(1)
    expect(readToolRun('bash', 'tcp', run({stderr: r.stderr, exitCode: r.status}))).toEqual({usable: true, outcome: 'refused', detail: 'connection refused'})
  })
})

describe("each tool's words, read as the lab prober's outcomes", () => {
  it('TCP: connected, refused, timed out, unreachable — across nc, curl, wget', () => {
    const cases: [Parameters<typeof readToolRun>[0], Partial<ToolRun>, unknown][] = [
      ['nc', {exitCode: 0, stdout: 'web-2-1\n', stderr: 'Connection to 10.244.2.2 8080 port [tcp/*] succeeded!\n'}, {usable: true, outcome: 'delivered', answer: 'web-2-1'}],
      ['nc', {exitCode: 0, stderr: 'Connection to 10.244.2.2 8080 port [tcp/*] succeeded!\n'}, {usable: true, outcome: 'delivered'}],
      ['nc', {stderr: 'nc: connect to 10.244.2.2 port 8080 (tcp) failed: Connection refused\n'}, {usable: true, outcome: 'refused', detail: 'connection refused'}],
      ['nc', {stderr: 'nc: connect to 10.244.2.2 port 8080 (tcp) timed out: Operation now in progress\n'}, {usable: true, outcome: 'timeout', detail: 'no connection within 2 s'}],
      ['nc', {stderr: 'nc: connect to 10.244.2.2 port 8080 (tcp) failed: No route to host\n'}, {usable: true, outcome: 'error', detail: 'no route to host'}],
      ['nc', {stderr: "nc: can't connect to remote host (10.244.2.2): Connection refused\n"}, {usable: true, outcome: 'refused', detail: 'connection refused'}],
      ['nc', {stderr: "nc: invalid option -- 'v'\nBusyBox v1.36.1 multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT\n"}, {usable: false, why: "nc: nc: invalid option -- 'v'"}],
      ['curl', {exitCode: 28, stderr: '*   Trying 10.244.2.2:8080...\n* Connected to 10.244.2.2 (10.244.2.2) port 8080 (#0)\n* Time-out\ncurl: (28) Time-out\n'}, {usable: true, outcome: 'delivered'}],
      ['curl', {exitCode: 7, stderr: '*   Trying 10.244.2.2:8080...\n* connect to 10.244.2.2 port 8080 failed: Connection refused\ncurl: (7) Failed to connect\n'}, {usable: true, outcome: 'refused', detail: 'connection refused'}],
      ['curl', {exitCode: 28, stderr: 'curl: (28) Failed to connect to 10.9.9.9 port 80 after 2001 ms: Timeout was reached\n'}, {usable: true, outcome: 'timeout', detail: 'no connection within 2 s'}],
      ['curl', {exitCode: 1, stderr: 'curl: (1) Protocol "telnet" not supported or disabled in libcurl\n'}, {usable: false, why: 'curl: curl: (1) Protocol "telnet" not supported or disabled in libcurl'}],
      ['wget', {exitCode: 4, stderr: 'Connecting to 10.9.9.9:80... failed: Connection timed out.\nGiving up.\n'}, {usable: true, outcome: 'timeout', detail: 'no connection within 2 s'}],
      ['wget', {exitCode: 4, stderr: 'Connecting to 127.0.0.1:18083... failed: Connection refused.\n'}, {usable: true, outcome: 'refused', detail: 'connection refused'}],
      ['wget', {exitCode: 8, stderr: 'Connecting to 10.244.2.2:8080... connected.\nHTTP request sent, awaiting response... 404 Not Found\n'}, {usable: true, outcome: 'delivered'}],
      // The exec ran out of time before the tool said anything (bash waiting on a SYN that never gets an answer).
      ['bash', {exitCode: null, timedOut: true}, {usable: true, outcome: 'timeout', detail: 'no connection within 2 s'}],
    ]
    for (const [tool, r, expected] of cases) expect(readToolRun(tool, 'tcp', run(r)), `${tool} ${JSON.stringify(r)}`).toEqual(expected)
  })

  it('a tool that is not there: containerd\'s Status, or exit 126/127 from other runtimes and shells', () => {
    const containerd = 'Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "4c1e": OCI runtime exec failed: exec failed: unable to start container process: exec: "nc": executable file not found in $PATH: unknown'
    expect(readToolRun('nc', 'tcp', run({exitCode: null, error: containerd}))).toEqual({usable: false, why: 'nc: not in the container'})
    expect(readToolRun('curl', 'tcp', run({exitCode: 126, stdout: 'OCI runtime exec failed: exec failed: container_linux.go:349: starting container process caused "exec: \\"curl\\": executable file not found in $PATH": unknown\n'}))).toEqual({usable: false, why: 'curl: not in the container (exit 126)'})
    expect(readToolRun('bash', 'tcp', run({exitCode: 127, stderr: 'sh: bash: not found\n'}))).toEqual({usable: false, why: 'bash: not in the container (exit 127)'})
  })

  it('UDP is judged by the reply: an answer, ICMP port unreachable, or silence', () => {
    expect(readToolRun('nc', 'udp', run({exitCode: 0, stdout: 'web-2-1\n'}))).toEqual({usable: true, outcome: 'delivered', answer: 'web-2-1'})
    expect(readToolRun('nc', 'udp', run({exitCode: 0}))).toEqual({usable: true, outcome: 'timeout', detail: 'no reply within 2 s'})
    expect(readToolRun('bash', 'udp', run({exitCode: 1, stderr: 'knet-probe: line 1: read: read error: 0: Connection refused\n'}))).toEqual({usable: true, outcome: 'refused', detail: 'ICMP port unreachable'})
  })

  it('ICMP: ping\'s reply, silence, and its reasons (as the lab prober reads them)', () => {
    expect(readToolRun('ping', 'icmp', run({exitCode: 0}))).toEqual({usable: true, outcome: 'delivered'})
    expect(readToolRun('ping', 'icmp', run({exitCode: 1, stdout: '1 packets transmitted, 0 received, 100% packet loss\n'}))).toEqual({usable: true, outcome: 'timeout'})
    expect(readToolRun('ping', 'icmp', run({exitCode: 1, stderr: 'ping: local error: message too long, mtu=1400\n'}))).toEqual({usable: true, outcome: 'error', detail: 'message too long (mtu 1400)'})
    expect(readToolRun('ping', 'icmp', run({exitCode: 2, stderr: 'ping: socket: Operation not permitted\n'}))).toEqual({usable: false, why: 'ping: ping: socket: Operation not permitted'})
  })
})
