/**
 * `knet lab up`: carries out the plan. The state file is written first (status "building") and
 * each namespace is recorded before it is created and each process as soon as it is started, so
 * `down` can always undo a failed or interrupted build. Any failure or abort tears down what was
 * built and rethrows.
 */
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {KnetError} from '../report/errors.js'
import {listNetns, run, tryRun} from './exec.js'
import {kubeProxyIptablesRules} from './kube-proxy-rules.js'
import {kubeProxyModelFor, labObjects} from './objects.js'
import {assertLabPlatform} from './platform.js'
import {isLabNamespace, planLab, planNamespaces, planNodeMap, type LabParams, type LabPlan} from './plan.js'
import {MARKER_FLAG, helperScript, spawnDetached} from './processes.js'
import {LAB_STATE_SCHEMA_VERSION, LabStateStore, labDataDir, labRoot, readLabStateLenient, type LabState} from './state.js'
import {iptablesRestoreArgv, nodeSteps, podSteps, routerSteps, type Step} from './steps.js'
import {labDown} from './teardown.js'
import {assertRealLab} from './real/preflight.js'
import {buildRealLab, type RealLabOptions} from './real/lab-up.js'

export interface LabUpOptions {
  params: LabParams
  /** Tear down an existing lab of the same name first. */
  force?: boolean
  root?: string
  signal?: AbortSignal
  onProgress?: (message: string) => void
  /** How long responders may take to listen. */
  readyTimeoutMs?: number
  /** Run the real upstream programs from this directory instead of emulating them (real/lab-up.ts). */
  kubernetes?: RealLabOptions
}

/** Thrown when the build was interrupted (SIGINT/SIGTERM); what was built has been removed. */
export class LabInterrupted extends KnetError {
  constructor(name: string) {
    super('internal', `lab ${name}: interrupted; everything built so far was removed`)
  }
}

export async function labUp(options: LabUpOptions): Promise<{plan: LabPlan; state: LabState; durationMs: number}> {
  assertLabPlatform()
  const started = Date.now()
  let plan = planLab(options.params)
  // Real mode reaches its API server over the IPv4 underlay (10.100.0.1:6443), which an IPv6-only lab lacks.
  if (options.kubernetes && !plan.ipFamilies.includes(4)) {
    throw new KnetError('bad-input', `--ip-family ${plan.params.ipFamily}: the real-Kubernetes lab (--kubernetes) runs IPv4 or dual-stack, not IPv6 only yet`, {suggestion: 'use --ip-family dual, or the emulated lab (no --kubernetes) for IPv6 only'})
  }
  if (options.kubernetes) await assertRealLab(plan, options.kubernetes)
  const name = plan.params.name
  const root = options.root ?? labRoot()
  const progress = options.onProgress ?? (() => undefined)

  const existing = await readLabStateLenient(name, root)
  const leftovers = (await listNetns()).filter((ns) => isLabNamespace(name, ns))
  if (existing || leftovers.length > 0) {
    if (!options.force) {
      const what = existing ? `exists (status ${existing.status})` : `has ${leftovers.length} leftover namespaces`
      throw new KnetError('bad-input', `lab ${name} ${what}`, {suggestion: `run "knet lab down --name ${name}" first, or "knet lab up --force"`})
    }
    progress(`lab ${name}: removing the existing lab first (--force)`)
    await labDown(name, {root})
  }

  const dir = labDataDir(name, root)
  await mkdir(dir, {recursive: true, mode: 0o700})
  const store = new LabStateStore(
    {
      schemaVersion: LAB_STATE_SCHEMA_VERSION,
      name,
      status: 'building',
      params: plan.params,
      createdAt: new Date().toISOString(),
      prefix: plan.prefix,
      namespaces: [],
      processes: [],
      nodeMap: planNodeMap(plan),
      dir,
      ...(options.kubernetes ? {kubernetes: {dir: options.kubernetes.dir, proxyMode: options.kubernetes.proxyMode}} : {}),
    },
    root,
  )
  await store.update(() => undefined)

  try {
    if (options.kubernetes) plan = await buildRealLab(plan, store, dir, options.kubernetes, options.signal, progress)
    else await build(plan, store, dir, options.signal, progress, options.readyTimeoutMs ?? 180_000)
    await store.update((s) => (s.status = 'up'))
  } catch (error) {
    const interrupted = options.signal?.aborted === true
    progress(`lab ${name}: ${interrupted ? 'interrupted' : 'build failed'}; removing what was built`)
    await store.update((s) => {
      s.status = 'failed'
      s.error = error instanceof Error ? error.message : String(error)
    }).catch(() => undefined)
    await labDown(name, {root})
    if (interrupted) throw new LabInterrupted(name)
    throw error
  }
  return {plan, state: store.current, durationMs: Date.now() - started}
}

async function build(plan: LabPlan, store: LabStateStore, dir: string, signal: AbortSignal | undefined, progress: (m: string) => void, readyTimeoutMs: number): Promise<void> {
  const check = (): void => {
    if (signal?.aborted) throw new Error('aborted')
  }
  const steps = async (list: Step[]): Promise<void> => {
    for (const group of batches(list)) {
      check()
      if (group.length === 1 && group[0]?.optional) await tryRun(group[0].argv)
      else if (group.length === 1) await run((group[0] as Step).argv)
      else await runBatch(group)
    }
  }

  progress(`lab ${plan.params.name}: creating ${planNamespaces(plan).length} namespaces`)
  const namespaces = planNamespaces(plan)
  check()
  // Recorded before they exist: an interruption in between still leaves them findable.
  await store.update((s) => void s.namespaces.push(...namespaces))
  await run(['ip', '-batch', '-'], {input: `${namespaces.map((ns) => `netns add ${ns}`).join('\n')}\n`})

  await steps(routerSteps(plan))
  for (const node of plan.nodes) await steps(nodeSteps(plan, node))
  progress(`lab ${plan.params.name}: wiring ${plan.pods.length} pods (${plan.params.topology})`)
  for (const pod of plan.pods) {
    const node = plan.nodes.find((n) => n.name === pod.node)
    if (node) await steps(podSteps(node, pod))
  }

  progress(`lab ${plan.params.name}: writing kube-proxy rules for ${plan.services.length} Services`)
  for (const node of plan.nodes) {
    for (const family of plan.ipFamilies) {
      check()
      await run(iptablesRestoreArgv(node, family), {input: kubeProxyIptablesRules(kubeProxyModelFor(plan, node, family))})
    }
  }

  progress(`lab ${plan.params.name}: starting ${plan.pods.length} responders`)
  const script = helperScript('responder')
  const logs: string[] = []
  for (const pod of plan.pods) {
    check()
    const log = join(dir, `${pod.name}.log`)
    logs.push(log)
    const ports = pod.ports.map((p) => `${p.protocol.toLowerCase()}:${p.port}`)
    const pid = spawnDetached(['ip', 'netns', 'exec', pod.netns, process.execPath, script, MARKER_FLAG, plan.marker, pod.name, ...ports], log)
    await store.update((s) => void s.processes.push({pid, role: 'responder', netns: pod.netns, pod: pod.name, marker: plan.marker}))
  }
  await waitReady(logs, readyTimeoutMs, check)

  const objectsFile = join(dir, 'objects.json')
  await writeFile(objectsFile, `${JSON.stringify({apiVersion: 'v1', kind: 'List', items: labObjects(plan)}, null, 2)}\n`, {mode: 0o600})
  await store.update((s) => (s.objectsFile = objectsFile))

  progress(`lab ${plan.params.name}: serving the lab's objects on a loopback API (stand-in server)`)
  check()
  const apiLog = join(dir, 'api-server.log')
  const kubeconfig = join(dir, 'kubeconfig')
  const apiPid = spawnDetached([process.execPath, helperScript('api-server'), MARKER_FLAG, plan.marker, objectsFile, kubeconfig], apiLog)
  await store.update((s) => void s.processes.push({pid: apiPid, role: 'apiserver', marker: plan.marker}))
  await waitReady([apiLog], readyTimeoutMs, check)
  const url = /^ready (\S+)/m.exec(await readFile(apiLog, 'utf8'))?.[1]
  await store.update((s) => {
    s.kubeconfig = kubeconfig
    s.apiServer = {pid: apiPid, ...(url ? {url} : {})}
  })
}

async function waitReady(logs: string[], timeoutMs: number, check: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const pending = new Set(logs)
  while (pending.size > 0) {
    check()
    for (const log of [...pending]) {
      const text = await readFile(log, 'utf8').catch(() => '')
      if (/^ready /m.test(text)) pending.delete(log)
      else if (text.trim() !== '') throw new KnetError('command-failed', `a lab responder failed: ${text.trim().split('\n')[0]}`, {suggestion: `see ${log}`})
    }
    if (pending.size === 0) break
    if (Date.now() > deadline) throw new KnetError('timeout', `${pending.size} lab responders did not start within ${timeoutMs} ms`, {suggestion: `see ${[...pending][0]}`})
    await sleep(20)
  }
}

/** `ip -n NS` steps in a row for the same namespace: one `ip -batch` process instead of many. */
function batches(list: Step[]): Step[][] {
  const out: Step[][] = []
  for (const step of list) {
    const last = out.at(-1)
    const head = last?.[0]
    if (last && head && batchable(step) && batchable(head) && head.argv[2] === step.argv[2]) last.push(step)
    else out.push([step])
  }
  return out
}

function batchable(step: Step): boolean {
  return !step.optional && step.argv[0] === 'ip' && step.argv[1] === '-n'
}

async function runBatch(group: Step[]): Promise<void> {
  const netns = group[0]?.argv[2] as string
  try {
    await run(['ip', '-n', netns, '-batch', '-'], {input: `${group.map((s) => s.argv.slice(3).join(' ')).join('\n')}\n`})
  } catch (error) {
    // "Command failed -:N" names the line; report that step's full argv like a single run would.
    const line = /Command failed -:(\d+)/.exec(String((error as {cause?: {stderr?: string}}).cause?.stderr ?? ''))
    const step = line ? group[Number(line[1]) - 1] : undefined
    const why = (error as Error).message.split(': ').slice(1).join(': ')
    if (step) throw new KnetError('command-failed', `${step.argv.join(' ')}: ${why}`, {cause: error})
    throw error
  }
}
