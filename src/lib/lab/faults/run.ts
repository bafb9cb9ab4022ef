/**
 * `knet lab break` / `knet lab heal`: apply a fault to a running lab, record it in the state file
 * (with what heal needs to restore exactly), and undo it. Derived state (API objects, nat tables)
 * is recomputed from the plan and every still-applied fault after each change.
 */
import {z} from 'zod'
import {KnetError, badInput} from '../../report/errors.js'
import {run} from '../exec.js'
import {assertLabPlatform} from '../platform.js'
import type {Family, LabPlan, Topology} from '../plan.js'
import {LabStateStore, labPlanOf, labRoot, readLabState} from '../state.js'
import {realLabOf, type RealLab} from './real.js'
import {FAULTS, findFault} from './registry.js'
import {syncApi, syncNat} from './sync.js'
import type {AppliedFault, Fault, FaultContext} from './types.js'
import {requireNode} from './util.js'

export const FAULT_RESULT_SCHEMA_VERSION = 1

const appliedSchema = z.object({
  id: z.string(),
  node: z.string(),
  target: z.string(),
  appliedAt: z.string(),
  undo: z.array(z.array(z.string())),
  data: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
})

export interface BreakOutcome {
  schemaVersion: 1
  lab: string
  applied: AppliedFault
  fault: {id: string; emulates: string; expect: string; api: string}
}

export interface HealOutcome {
  schemaVersion: 1
  lab: string
  healed: AppliedFault[]
  /** Faults still applied afterwards. */
  remaining: string[]
}

export function appliedFaults(faults: unknown[] | undefined): AppliedFault[] {
  return (faults ?? []).flatMap((f) => {
    const parsed = appliedSchema.safeParse(f)
    return parsed.success ? [parsed.data as AppliedFault] : []
  })
}

export function requireFault(id: string): Fault {
  const fault = findFault(id)
  if (!fault) throw badInput(`unknown fault "${id}"; valid: ${FAULTS.map((f) => f.id).join(', ')}`)
  return fault
}

async function openLab(name: string, root: string): Promise<{plan: LabPlan; store: LabStateStore; real?: RealLab}> {
  const state = await readLabState(name, root)
  if (!state) throw new KnetError('bad-input', `no lab named ${name}`, {suggestion: `start one with "knet lab up --name ${name}"`})
  if (state.status !== 'up') throw new KnetError('bad-input', `lab ${name} is ${state.status}, not up`, {suggestion: `run "knet lab down --name ${name}" then "knet lab up --name ${name}"`})
  // A real lab's plan is the one its cluster realised (pod CIDRs, MACs, veth names, recreated pods).
  const real = realLabOf(state)
  return {plan: labPlanOf(state), store: new LabStateStore(state, root), ...(real ? {real} : {})}
}

function context(plan: LabPlan, store: LabStateStore, root: string, nodeName: string, target: string, family: Family, real?: RealLab): FaultContext {
  const node = nodeName === 'all' ? undefined : requireNode(plan, nodeName)
  return {plan, store, root, node, nodeName, target, family, ...(real ? {real} : {})}
}

/** The family a break acts on: --ip-family (which the fault and the lab must both have), else the lab's primary one. */
function faultFamily(fault: Fault, plan: LabPlan, name: string, family: Family | undefined): Family {
  const lab = plan.ipFamilies ?? [4]
  if (family === undefined) return lab[0] ?? 4
  if (!fault.families) throw badInput(`${fault.id} is not a per-family fault: it takes no --ip-family`, `per-family faults: ${FAULTS.filter((f) => f.families).map((f) => f.id).join(', ')}`)
  if (!fault.families.includes(family)) throw badInput(`${fault.id} has no IPv${family} variant`)
  if (!lab.includes(family)) throw badInput(`lab ${name} has no IPv${family} (lab up --ip-family ${family === 6 ? 'dual or ipv6' : 'dual or ipv4'})`)
  return family
}

/** The family an applied fault was broken for (faults applied before families existed: IPv4). */
function appliedFamily(applied: AppliedFault): Family {
  return applied.data?.family === 6 ? 6 : 4
}

async function resync(fault: Fault, plan: LabPlan, store: LabStateStore): Promise<void> {
  // A real lab's API objects and kube-proxy rules belong to the real API server and kube-proxy.
  if (store.current.kubernetes) return
  const applied = appliedFaults(store.current.faults)
  if (fault.kubeProxy) await syncNat(plan, applied, findFault)
  if (fault.objects) await syncApi(plan, store, applied, findFault)
}

export async function breakFault(name: string, id: string, options: {node?: string; target?: string; root?: string; family?: Family} = {}): Promise<BreakOutcome> {
  const fault = requireFault(id)
  assertLabPlatform()
  const root = options.root ?? labRoot()
  const {plan, store, real} = await openLab(name, root)
  if (real && fault.real?.refused) throw badInput(`${id} does not apply to a real lab (${name} runs Kubernetes): ${fault.real.refused}`)
  if (fault.topologies && !fault.topologies.includes(plan.params.topology)) throw badInput(`${id} needs a ${fault.topologies.join(' or ')} lab; ${name} is ${plan.params.topology}`)
  const notHere = fault.notFor?.[plan.params.topology]
  if (notHere) throw badInput(`${id} does not apply to a ${plan.params.topology} lab: ${notHere}`)
  const existing = appliedFaults(store.current.faults).find((f) => f.id === id)
  if (existing) throw badInput(`fault ${id} is already applied to lab ${name} (node ${existing.node}, target ${existing.target})`, `heal it first: knet lab heal ${id} --name ${name}`)
  const family = faultFamily(fault, plan, name, options.family)
  const defaults = (real && fault.real?.defaults) || (family === 6 && fault.defaults6) || fault.defaults
  const nodeName = options.node ?? defaults.node
  const target = options.target ?? defaults.target
  if (real && family === 6 && fault.real?.refused6) throw badInput(`${id} --ip-family 6 does not apply to a real lab (${name} runs Kubernetes): ${fault.real.refused6}`)
  const ctx = context(plan, store, root, nodeName, target, family, real)
  const result = real && fault.real?.break ? await fault.real.break({...ctx, real}, () => fault.break(ctx)) : await fault.break(ctx)
  // The family is recorded only where it matters (IPv6), so IPv4 results read as before.
  const data = family === 6 ? {...result.data, family} : result.data
  const applied: AppliedFault = {id, node: nodeName, target, appliedAt: new Date().toISOString(), undo: result.undo, ...(data ? {data} : {})}
  await store.update((s) => (s.faults = [...(s.faults ?? []), applied]))
  await resync(fault, plan, store)
  const expect = expectedOutcome(fault, plan.params.topology, family, Boolean(real))
  return {schemaVersion: FAULT_RESULT_SCHEMA_VERSION, lab: name, applied, fault: {id, emulates: fault.emulates, expect, api: fault.api}}
}

/**
 * What the probes will show after breaking `fault` on this lab: a real lab's own outcome, else this
 * family's; a topology's own outcome is said relative to the general one ("as above, except …"),
 * so both are shown.
 */
export function expectedOutcome(fault: Pick<Fault, 'expect' | 'expectFor' | 'expect6' | 'real'>, topology: Topology, family: Family, real: boolean): string {
  const onTopology = fault.expectFor?.[topology]
  return (real && fault.real?.expect) || (family === 6 && fault.expect6) || (onTopology ? `${fault.expect} On a ${topology} lab: ${onTopology}` : fault.expect)
}

/** Heal one fault, or every applied fault (last applied first) when id is undefined. */
export async function healFaults(name: string, id?: string, options: {root?: string} = {}): Promise<HealOutcome> {
  if (id !== undefined) requireFault(id)
  assertLabPlatform()
  const root = options.root ?? labRoot()
  const {plan, store, real} = await openLab(name, root)
  const chosen = appliedFaults(store.current.faults).filter((f) => id === undefined || f.id === id).reverse()
  const healed: AppliedFault[] = []
  for (const applied of chosen) {
    const fault = requireFault(applied.id)
    // Recomputed per fault: healing one may have changed the realised plan (a recreated pod).
    const ctx = context(real ? labPlanOf(store.current) : plan, store, root, applied.node, applied.target, appliedFamily(applied), real)
    const emulated = async (): Promise<void> => {
      if (fault.heal) await fault.heal(ctx, applied)
      else for (const argv of applied.undo) await run(argv)
    }
    if (real && fault.real?.heal) await fault.real.heal({...ctx, real}, applied, emulated)
    else await emulated()
    await store.update((s) => (s.faults = (s.faults ?? []).filter((f) => (f as {id?: string}).id !== applied.id)))
    await resync(fault, plan, store)
    healed.push(applied)
  }
  return {schemaVersion: FAULT_RESULT_SCHEMA_VERSION, lab: name, healed, remaining: appliedFaults(store.current.faults).map((f) => f.id)}
}

export interface FaultCatalogueEntry {
  id: string
  emulates: string
  expect: string
  api: string
  defaults: {node: string; target: string}
  targetHelp: string
  /** Topologies it does not apply to, with why. */
  notFor?: Partial<Record<string, string>>
  /** Probe outcomes per topology where they differ from expect. */
  expectFor?: Partial<Record<string, string>>
  /** Per-family faults: the families `--ip-family` takes, and the outcomes with --ip-family 6. */
  families?: number[]
  expect6?: string
  /** On a real lab (`lab up --kubernetes`): what it does there, or why it is refused. */
  real?: {does: string; refused?: string; refused6?: string; expect?: string; defaults?: {node: string; target: string}}
}

export function faultCatalogue(): FaultCatalogueEntry[] {
  return FAULTS.map((f) => ({
    id: f.id, emulates: f.emulates, expect: f.expect, api: f.api, defaults: {...f.defaults}, targetHelp: f.targetHelp,
    ...(f.notFor ? {notFor: {...f.notFor}} : {}),
    ...(f.expectFor ? {expectFor: {...f.expectFor}} : {}),
    ...(f.families ? {families: [...f.families]} : {}),
    ...(f.expect6 ? {expect6: f.expect6} : {}),
    ...(f.real
      ? {real: {does: f.real.does, ...(f.real.refused ? {refused: f.real.refused} : {}), ...(f.real.refused6 ? {refused6: f.real.refused6} : {}), ...(f.real.expect ? {expect: f.real.expect} : {}), ...(f.real.defaults ? {defaults: {...f.real.defaults}} : {})}}
      : {}),
  }))
}
