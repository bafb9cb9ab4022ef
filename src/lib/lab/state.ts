/**
 * One JSON file per lab records everything the lab created: it is written before anything is
 * built (status "building") and extended as each namespace and process appears, so `down` can
 * remove exactly what exists even after an interrupted `up`. Writes are atomic (temp + rename).
 */
import {mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {z} from 'zod'
import {badInput} from '../report/errors.js'
import {IP_FAMILIES, TOPOLOGIES, planLab, type LabPlan} from './plan.js'
import {realisePlan} from './real/realise.js'

export const LAB_STATE_SCHEMA_VERSION = 1

const processSchema = z.object({
  pid: z.number().int().positive(),
  role: z.enum(['responder', 'apiserver', 'component', 'kubelet', 'relay']),
  netns: z.string().optional(),
  pod: z.string().optional(),
  /** Real labs: the upstream program (etcd, kube-apiserver, kube-proxy, flanneld, …), its node and version. */
  component: z.string().optional(),
  node: z.string().optional(),
  version: z.string().optional(),
  /** A token in the process's argv that proves it is ours before anything signals it. */
  marker: z.string(),
})

const stateSchema = z.object({
  schemaVersion: z.literal(LAB_STATE_SCHEMA_VERSION),
  name: z.string(),
  status: z.enum(['building', 'up', 'failed', 'tearing-down']),
  params: z.object({name: z.string(), nodes: z.number(), podsPerNode: z.number(), topology: z.enum(TOPOLOGIES), ipFamily: z.enum(IP_FAMILIES).optional()}),
  createdAt: z.string(),
  prefix: z.string(),
  /** Namespaces in creation order; `down` removes them in reverse. */
  namespaces: z.array(z.string()),
  processes: z.array(processSchema),
  /** Node name → namespace, for --node-access netns. */
  nodeMap: z.record(z.string(), z.string()),
  /** Directory with the lab's logs (and, later, its kubeconfig). */
  dir: z.string(),
  /** The lab's Kubernetes objects as a kubectl-style List (usable as `knet snapshot --objects`). */
  objectsFile: z.string().optional(),
  kubeconfig: z.string().optional(),
  apiServer: z.object({pid: z.number().optional(), url: z.string().optional()}).optional(),
  faults: z.array(z.unknown()).optional(),
  error: z.string().optional(),
  /** Set when the lab runs the real upstream programs (`lab up --kubernetes DIR`). */
  kubernetes: z.object({dir: z.string(), proxyMode: z.enum(['iptables', 'nftables'])}).optional(),
  /** What the real cluster chose where the plan could not (see real/realise.ts). */
  realised: z
    .object({
      podCIDRs: z.record(z.string(), z.string()).optional(),
      vtepMacs: z.record(z.string(), z.string()).optional(),
      /** Dual-stack real labs: each Node's IPv6 pod CIDR and flannel-v6.1's MAC. */
      podCIDRs6: z.record(z.string(), z.string()).optional(),
      vtepMacs6: z.record(z.string(), z.string()).optional(),
      pods: z.record(z.string(), z.object({ip: z.string().optional(), ip6: z.string().optional(), mac: z.string().optional(), hostVeth: z.string().optional()})).optional(),
      /** Services a fault created through the API (missing-nat), each like a plan Service. */
      services: z.array(z.object({namespace: z.string(), name: z.string(), clusterIP: z.string(), like: z.string()})).optional(),
    })
    .optional(),
})

export type LabProcess = z.infer<typeof processSchema>
export type LabState = z.infer<typeof stateSchema>

/** The lab's plan as every command sees it: computed from the parameters, realised with what a real cluster chose. */
export function labPlanOf(state: Pick<LabState, 'params' | 'realised'>): LabPlan {
  return realisePlan(planLab(state.params), state.realised)
}

/** `KNET_LAB_DIR` (tests) or /run/knet: tmpfs, so a reboot, which also drops every netns, clears it. */
export function labRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.KNET_LAB_DIR && env.KNET_LAB_DIR.trim() !== '' ? env.KNET_LAB_DIR : '/run/knet'
}

export function statePath(name: string, root = labRoot()): string {
  return join(root, `lab-${name}.json`)
}

export function labDataDir(name: string, root = labRoot()): string {
  return join(root, `lab-${name}`)
}

/** The state file, or undefined when there is none; a corrupt file is bad input (exit 2). */
export async function readLabState(name: string, root = labRoot()): Promise<LabState | undefined> {
  const path = statePath(name, root)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw badInput(`${path} is not a lab state file (invalid JSON)`, `run "knet lab down --name ${name}" to clean up by prefix`, error)
  }
  const parsed = stateSchema.safeParse(json)
  if (!parsed.success) throw badInput(`${path} is not a lab state file this knet understands`, `run "knet lab down --name ${name}" to clean up by prefix`, parsed.error)
  return parsed.data
}

/** Read the state file, tolerating a corrupt one (down must always be able to clean up). */
export async function readLabStateLenient(name: string, root = labRoot()): Promise<LabState | undefined> {
  try {
    return await readLabState(name, root)
  } catch {
    return undefined
  }
}

export async function writeLabState(state: LabState, root = labRoot()): Promise<void> {
  await mkdir(root, {recursive: true, mode: 0o700})
  const path = statePath(state.name, root)
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, {mode: 0o600})
  await rename(tmp, path)
}

export async function removeLabState(name: string, root = labRoot()): Promise<void> {
  await rm(statePath(name, root), {force: true})
  await rm(labDataDir(name, root), {recursive: true, force: true})
}

/** Serialises updates so the file always reflects the last completed change. */
export class LabStateStore {
  private chain: Promise<void> = Promise.resolve()

  constructor(
    private state: LabState,
    private readonly root = labRoot(),
  ) {}

  get current(): LabState {
    return this.state
  }

  update(change: (state: LabState) => void): Promise<void> {
    const next = this.chain.then(async () => {
      change(this.state)
      await writeLabState(this.state, this.root)
    })
    this.chain = next.catch(() => undefined)
    return next
  }
}
