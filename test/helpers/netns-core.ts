/**
 * Real Linux network namespaces for tests and fixture-capture scripts. No vitest here, so scripts
 * run with tsx can use it too; test/helpers/netns.ts adds the vitest gate.
 */
import {execFileSync} from 'node:child_process'
import {waitForSync} from './wait.js'

let counter = 0

/** A uniquely named namespace, removed by destroy(). Names start with "knet-t-" so leaks are easy to spot. */
export class TestNetns {
  readonly name: string

  private constructor(name: string) {
    this.name = name
  }

  static create(tag: string): TestNetns {
    const name = `knet-t-${tag}-${process.pid}-${counter++}`
    execFileSync('ip', ['netns', 'add', name])
    const ns = new TestNetns(name)
    ns.run(['ip', 'link', 'set', 'lo', 'up'])
    // No duplicate address can exist in a namespace made a moment ago, and with duplicate address
    // detection on, every IPv6 address is tentative for a second or two after its link comes up,
    // then gains its local route: two dumps taken either side of that differ. Interfaces created
    // here from now on take "default"; "all" must be off too for the kernel to skip DAD. (No IPv6
    // in the kernel: nothing to turn off.)
    ns.tryRun(['sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad && echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'])
    return ns
  }

  /** Returns once IPv6 addressing in the namespace has stopped changing by itself (see ipv6Settled). */
  settle(timeoutMs?: number): void {
    waitForIpv6Settled(this.name, timeoutMs)
  }

  /** Run argv inside the namespace; throws with stderr on failure (tests build state they control). */
  run(argv: string[], input?: string): string {
    try {
      return execFileSync('ip', ['netns', 'exec', this.name, ...argv], {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']})
    } catch (error) {
      const e = error as {stderr?: string; message: string}
      throw new Error(`in ${this.name}: ${argv.join(' ')}: ${e.stderr?.trim() || e.message}`)
    }
  }

  /** Same as run() but returns exit status and output instead of throwing. */
  tryRun(argv: string[]): {status: number; stdout: string; stderr: string} {
    try {
      const stdout = execFileSync('ip', ['netns', 'exec', this.name, ...argv], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
      return {status: 0, stdout, stderr: ''}
    } catch (error) {
      const e = error as {status?: number; stdout?: string; stderr?: string}
      return {status: e.status ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? ''}
    }
  }

  destroy(): void {
    try {
      execFileSync('ip', ['netns', 'del', this.name], {stdio: 'ignore'})
    } catch {
      // already gone
    }
  }
}

interface AddrJson {
  ifname: string
  flags?: string[]
  addr_info?: {local?: string; tentative?: boolean; dadfailed?: boolean}[]
}

/**
 * Whether the kernel is done with the namespace's IPv6 addresses: none is tentative, and each
 * address on an up interface has its local route. The kernel adds that route (and joins the
 * address's multicast and anycast groups) only when duplicate address detection ends — later,
 * from a work queue, even for a `nodad` address — so a dump taken before then differs from one
 * taken after. Returns what is still pending ('' when settled).
 */
export function ipv6Pending(netns: string): string {
  const ip = (...args: string[]): string => execFileSync('ip', ['-n', netns, '-j', ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  const addrs = JSON.parse(ip('-6', 'addr', 'show') || '[]') as AddrJson[]
  const local = new Set((JSON.parse(ip('-6', 'route', 'show', 'table', 'local') || '[]') as {type?: string; dst?: string}[]).filter((r) => r.type === 'local').map((r) => r.dst))
  const pending: string[] = []
  for (const link of addrs) {
    if (!link.flags?.includes('UP')) continue
    for (const a of link.addr_info ?? []) {
      if (a.local === undefined || a.dadfailed) continue
      if (a.tentative) pending.push(`${a.local} on ${link.ifname} is tentative`)
      else if (!local.has(a.local)) pending.push(`${a.local} on ${link.ifname} has no local route yet`)
    }
  }
  return pending.join('; ')
}

/** Waits (with a deadline, never a fixed sleep) until ipv6Pending has nothing left. */
export function waitForIpv6Settled(netns: string, timeoutMs = 20_000): void {
  waitForSync(
    `IPv6 addresses in ${netns} to settle`,
    () => {
      const pending = ipv6Pending(netns)
      if (pending) throw new Error(pending)
      return true
    },
    {timeoutMs},
  )
}
