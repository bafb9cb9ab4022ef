/**
 * `knet lab down`: removes exactly what belongs to one lab, whatever state it is in. Processes are
 * found by the state file's pids and by a scan for the lab's marker, and signalled only after the
 * marker is confirmed; namespaces come from the state file and from `ip netns list`, and only names
 * of this lab's exact shape (see isLabNamespace) are ever deleted. Idempotent.
 */
import {listNetns, tryRun} from './exec.js'
import {isLabNamespace, labMarker, validateLabName} from './plan.js'
import {findLabProcesses, stopLabProcesses} from './processes.js'
import {labRoot, readLabStateLenient, removeLabState} from './state.js'

export interface LabDownResult {
  schemaVersion: 1
  name: string
  /** Whether anything (state file, namespace or process) of the lab was found. */
  existed: boolean
  stoppedProcesses: number[]
  removedNamespaces: string[]
  /** Namespaces that could not be removed, with why. */
  failed: {netns: string; error: string}[]
}

export async function labDown(name: string, options: {root?: string; onProgress?: (m: string) => void} = {}): Promise<LabDownResult> {
  validateLabName(name)
  const root = options.root ?? labRoot()
  const state = await readLabStateLenient(name, root)
  const marker = labMarker(name)

  const pids = [...(state?.processes.map((p) => p.pid) ?? []), ...(await findLabProcesses(marker))]
  const stopped = await stopLabProcesses(pids, marker)

  const present = new Set(await listNetns())
  const recorded = (state?.namespaces ?? []).filter((ns) => isLabNamespace(name, ns))
  const scanned = [...present].filter((ns) => isLabNamespace(name, ns))
  // Reverse creation order (pods before their node, the router last), then anything left by prefix.
  const order = [...new Set([...[...recorded].reverse(), ...scanned.sort().reverse()])].filter((ns) => present.has(ns))
  const removed: string[] = []
  const failed: LabDownResult['failed'] = []
  for (const ns of order) {
    const r = await tryRun(['ip', 'netns', 'del', ns])
    if (r.exitCode === 0) removed.push(ns)
    else failed.push({netns: ns, error: r.stderr.split('\n')[0] ?? `exit ${r.exitCode}`})
  }
  // Keep the state file while something could not be removed, so a second `down` retries it.
  if (failed.length === 0) await removeLabState(name, root)
  options.onProgress?.(`lab ${name}: stopped ${stopped.length} processes, removed ${removed.length} namespaces`)
  return {schemaVersion: 1, name, existed: state !== undefined || stopped.length > 0 || removed.length > 0, stoppedProcesses: stopped, removedNamespaces: removed, failed}
}
