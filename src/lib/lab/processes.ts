/**
 * The lab's processes: responders started detached inside pod namespaces, and how `down` finds
 * and stops them. A process is only ever signalled after its /proc/PID/cmdline proves it is ours
 * (`--knetlab-marker PREFIX` in its argv), whether its pid came from the state file or a scan.
 */
import {spawn} from 'node:child_process'
import {existsSync, openSync, closeSync} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {setTimeout as sleep} from 'node:timers/promises'

export const MARKER_FLAG = '--knetlab-marker'
/**
 * Upstream programs (kube-apiserver, kube-proxy, …) reject unknown flags, so they carry the marker
 * in their environment instead: KNETLAB_MARKER=PREFIX, read back from /proc/PID/environ.
 */
export const MARKER_ENV = 'KNETLAB_MARKER'

/**
 * The compiled helper script (responder.js, prober.js) next to this module in dist; when this
 * module runs from TypeScript source (tests), the built copy in dist/ instead.
 */
export function helperScript(name: 'responder' | 'prober' | 'api-server' | 'real/kubelet' | 'real/relay'): string {
  const beside = fileURLToPath(new URL(`./${name}.js`, import.meta.url))
  if (existsSync(beside)) return beside
  const built = fileURLToPath(new URL(`../../../dist/lib/lab/${name}.js`, import.meta.url))
  if (existsSync(built)) return built
  throw new Error(`cannot find the lab's ${name}.js (run "npm run build")`)
}

/** Start argv detached, output to logFile; returns the pid (`ip netns exec` execs, so it is the node pid). */
export function spawnDetached(argv: string[], logFile: string, env?: Record<string, string>): number {
  const [file, ...args] = argv
  if (file === undefined) throw new Error('spawnDetached: empty argv')
  const fd = openSync(logFile, 'a', 0o600)
  try {
    const child = spawn(file, args, {detached: true, stdio: ['ignore', fd, fd], ...(env ? {env: {...process.env, ...env}} : {})})
    if (child.pid === undefined) throw new Error(`could not start ${file}`)
    child.unref()
    return child.pid
  } finally {
    closeSync(fd)
  }
}

export async function readCmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    return raw.split('\0').filter((s) => s !== '')
  } catch {
    return undefined
  }
}

/** True when argv carries exactly this lab's marker. */
export function hasMarker(argv: string[], marker: string): boolean {
  const i = argv.indexOf(MARKER_FLAG)
  return i >= 0 && argv[i + 1] === marker
}

/** True when the environment (NUL-separated, as /proc/PID/environ holds it) carries exactly this lab's marker. */
export function hasEnvMarker(environ: string, marker: string): boolean {
  return environ.split('\0').includes(`${MARKER_ENV}=${marker}`)
}

async function readEnviron(pid: number): Promise<string> {
  try {
    return await readFile(`/proc/${pid}/environ`, 'utf8')
  } catch {
    return ''
  }
}

export async function isLabProcess(pid: number, marker: string): Promise<boolean> {
  const argv = await readCmdline(pid)
  if (argv === undefined) return false
  return hasMarker(argv, marker) || hasEnvMarker(await readEnviron(pid), marker)
}

/** Every live process whose argv carries this lab's marker (finds what an interrupted `up` left). */
export async function findLabProcesses(marker: string): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    if (await isLabProcess(pid, marker)) pids.push(pid)
  }
  return pids
}

/** SIGCONT and SIGTERM, then SIGKILL after a grace period, each only after re-checking the marker. */
export async function stopLabProcesses(pids: number[], marker: string): Promise<number[]> {
  const ours: number[] = []
  for (const pid of new Set(pids)) if (await isLabProcess(pid, marker)) ours.push(pid)
  // A fault may have left a controller stopped (SIGSTOP): it must run to act on SIGTERM.
  for (const pid of ours) signal(pid, 'SIGCONT')
  for (const pid of ours) signal(pid, 'SIGTERM')
  for (let i = 0; i < 40 && (await anyAlive(ours, marker)); i++) await sleep(25)
  for (const pid of ours) if (await isLabProcess(pid, marker)) signal(pid, 'SIGKILL')
  for (let i = 0; i < 40 && (await anyAlive(ours, marker)); i++) await sleep(25)
  return ours
}

async function anyAlive(pids: number[], marker: string): Promise<boolean> {
  for (const pid of pids) if (await isLabProcess(pid, marker)) return true
  return false
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}
