/**
 * A real OpenSSH server for tests: `sshd -D` inside a test network namespace, reached from the
 * root namespace over a veth pair. Its host key, the client key, authorized_keys, known_hosts and
 * both configs live in one temp folder; the machine's /etc/ssh and ~/.ssh are never read or
 * written (the client runs with `ssh -F` on the config written here). That folder is one other
 * users can reach when there is such a place (othersCanReach tells): sshd reads authorized_keys as
 * the user logging in.
 */
import {spawn, execFileSync, type ChildProcess} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {TestNetns} from './netns-core.js'
import {tempDirForOtherUsers} from './other-user.js'

export const SSHD = '/usr/sbin/sshd'

export class TestSshd {
  /** The client config to pass as --ssh-config (identity, known_hosts, StrictHostKeyChecking yes). */
  readonly clientConfig: string
  readonly clientKey: string
  /** Users whose shared connection openSharedConnection started (closed by stop()). */
  private readonly masters = new Set<string>()

  private constructor(
    readonly dir: string,
    readonly address: string,
    private readonly child: ChildProcess,
    private readonly log: () => string,
  ) {
    this.clientConfig = join(dir, 'ssh_config')
    this.clientKey = join(dir, 'client_key')
  }

  /** sshd listening on `address` (already assigned inside `ns`), port 22, public-key login only. */
  static async start(ns: TestNetns, address: string): Promise<TestSshd> {
    // sshd reads authorized_keys as the user logging in, which may not be root.
    const dir = tempDirForOtherUsers('knet-sshd-') ?? mkdtempSync(join(tmpdir(), 'knet-sshd-'))
    chmodSync(dir, 0o755)
    const key = (name: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)])
    key('host_key')
    key('client_key')
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), {mode: 0o644})
    const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')
    writeFileSync(join(dir, 'known_hosts'), `${address} ${hostPub}\n`)
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `ListenAddress ${address}`,
        'Port 22',
        `HostKey ${join(dir, 'host_key')}`,
        // One absolute file for every user: the test's client key logs in as root or a test user.
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PidFile none',
        // The temp folder's modes are not what sshd wants for a home folder.
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'MaxStartups 100',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    )
    writeFileSync(
      join(dir, 'ssh_config'),
      [
        'Host *',
        `  IdentityFile ${join(dir, 'client_key')}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '  User root',
        // One connection per host, shared by knet's ssh processes: what the README recommends.
        '  ControlMaster auto',
        `  ControlPath ${join(dir, 'cm-%C')}`,
        '  ControlPersist 2',
        '',
      ].join('\n'),
    )
    // sshd's compiled-in privilege-separation folder; the Debian package creates it at service start.
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', {recursive: true, mode: 0o755})
    let log = ''
    const child = spawn('ip', ['netns', 'exec', ns.name, SSHD, '-D', '-e', '-f', join(dir, 'sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']})
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d))
    const sshd = new TestSshd(dir, address, child, () => log)
    try {
      await waitForPort(address, 22, 30_000, () => child.exitCode !== null)
    } catch (error) {
      await sshd.stop()
      throw new Error(`sshd did not start: ${(error as Error).message}; sshd said: ${log.trim()}`)
    }
    return sshd
  }

  /**
   * Opens the shared connection (ssh's ControlMaster, which the client config turns on) for `user`
   * before a test times anything: knet gives each node command 10 s, and on a loaded machine (CI
   * runs two suites at once on two cores) the key exchanges of four commands racing to become the
   * master — each falling back to a connection of its own — took most of that. With the master
   * open, every command is one more channel on it, as on a user's machine after the first run.
   */
  openSharedConnection(user = 'root'): void {
    const argv = ['-F', this.clientConfig, '-l', user]
    // -f backgrounds the master once logged in; it keeps no pipe of ours open (stdio ignored).
    execFileSync('ssh', [...argv, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=yes', '-o', 'BatchMode=yes', '-f', '-N', this.address], {stdio: 'ignore', timeout: 120_000})
    this.masters.add(user)
    execFileSync('ssh', [...argv, '-O', 'check', this.address], {stdio: 'ignore'})
  }

  /** What sshd wrote to stderr (errors only), for failure messages. */
  get stderr(): string {
    return this.log()
  }

  /**
   * Ends sshd and its per-connection processes (sshd leaves those running when only the listener
   * stops), which also ends the clients' shared connections at once.
   */
  async stop(): Promise<void> {
    for (const user of this.masters) {
      try {
        execFileSync('ssh', ['-F', this.clientConfig, '-l', user, '-O', 'exit', this.address], {stdio: 'ignore', timeout: 30_000})
      } catch {
        // already gone
      }
    }
    const pid = this.child.pid
    if (pid !== undefined && this.child.exitCode === null) {
      for (const session of childrenOf(pid)) {
        try {
          process.kill(session, 'SIGTERM')
        } catch {
          // already gone
        }
      }
      // Let sshd reap them before it goes, so no orphan is left for init.
      for (let i = 0; i < 40 && childrenOf(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 50))
      const exited = new Promise((r) => this.child.once('exit', r))
      this.child.kill('SIGTERM')
      await exited
    }
    rmSync(this.dir, {recursive: true, force: true})
  }
}

/** Process ids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(entry))
    } catch {
      // exited meanwhile
    }
  }
  return out
}

async function waitForPort(host: string, port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exited()) throw new Error('sshd exited')
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({host, port})
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A /24 of the benchmarking range 198.18.0.0/15, by index (0–511). */
const subnetOf = (index: number): string => `198.${18 + (index >> 8)}.${index & 255}`

/**
 * A veth pair from the root namespace into `ns`, on a /24 of 198.18.0.0/15 that no other test
 * process holds: the root side is `.1/24`, the namespace side holds `.H/24` for each H in `nsHosts`.
 * The root side's name carries the /24's index (`ksh<index>o`), so creating it is what claims the
 * /24 — the kernel refuses a second link of that name — and two test runs on one machine never
 * route one /24 to two namespaces. The claim ends with the link (remove(), or the namespace going:
 * a veth pair dies with either end).
 */
export function vethIntoNetns(ns: TestNetns, nsHosts: number[]): {rootIf: string; address: (host: number) => string; remove: () => void} {
  const start = Math.floor(Math.random() * 512)
  for (let k = 0; k < 512; k++) {
    const index = (start + k) % 512
    const subnet = subnetOf(index)
    const rootIf = `ksh${index}o`
    try {
      execFileSync('ip', ['link', 'add', rootIf, 'type', 'veth', 'peer', 'name', `ksh${index}i`, 'netns', ns.name], {stdio: ['ignore', 'ignore', 'pipe']})
    } catch (error) {
      if (/File exists/.test(String((error as {stderr?: Buffer}).stderr))) continue
      throw error
    }
    const remove = (): void => {
      try {
        execFileSync('ip', ['link', 'del', rootIf], {stdio: 'ignore'})
      } catch {
        // gone with the namespace
      }
    }
    // Something else on this machine already routes it (not a test's claim): leave it alone.
    if (execFileSync('ip', ['-4', 'route', 'show', 'root', `${subnet}.0/24`], {encoding: 'utf8'}).trim() !== '') {
      remove()
      continue
    }
    try {
      execFileSync('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', rootIf])
      execFileSync('ip', ['link', 'set', rootIf, 'up'])
      for (const host of nsHosts) ns.run(['ip', 'addr', 'add', `${subnet}.${host}/24`, 'dev', `ksh${index}i`])
      ns.run(['ip', 'link', 'set', `ksh${index}i`, 'up'])
    } catch (error) {
      remove()
      throw error
    }
    return {rootIf, address: (host) => `${subnet}.${host}`, remove}
  }
  throw new Error('every /24 of 198.18.0.0/15 is taken by other test runs')
}
