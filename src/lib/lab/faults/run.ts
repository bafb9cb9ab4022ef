/**
 * `knet lab break` / `knet lab heal`: apply a fault to a running lab, record it in the state file
 * (with what heal needs to restore exactly), and undo it. Derived state (API objects, nat tables)
 * is recomputed from the plan and every still-applied fault after each change.
 */
import {z} from 'zod'
import {KnetError, badInput} from '../../report/errors.js'
import {run} from '../exec.js'
import {assertLabPlatform} from '../platform.js'
import {planLab, type LabPlan} from '../plan.js'
import {LabStateStore, labRoot, readLabState} from '../state.js'
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

async function openLab(name: string, root: string): Promise<{plan: LabPlan; store: LabStateStore}> {
  const state = await readLabState(name, root)
  if (!state) throw new KnetError('bad-input', `no lab named ${name}`, {suggestion: `start one with "knet lab up --name ${name}"`})
  if (state.status !== 'up') throw new KnetError('bad-input', `lab ${name} is ${state.status}, not up`, {suggestion: `run "knet lab down --name ${name}" then "knet lab up --name ${name}"`})
  return {plan: planLab(state.params), store: new LabStateStore(state, root)}
}

function context(plan: LabPlan, store: LabStateStore, root: string, nodeName: string, target: string): FaultContext {
  const node = nodeName === 'all' ? undefined : requireNode(plan, nodeName)
  return {plan, store, root, node, nodeName, target}
}

async function resync(fault: Fault, plan: LabPlan, store: LabStateStore): Promise<void> {
  const applied = appliedFaults(store.current.faults)
  if (fault.kubeProxy) await syncNat(plan, applied, findFault)
  if (fault.objects) await syncApi(plan, store, applied, findFault)
}

export async function breakFault(name: string, id: string, options: {node?: string; target?: string; root?: string} = {}): Promise<BreakOutcome> {
  const fault = requireFault(id)
  assertLabPlatform()
  const root = options.root ?? labRoot()
  const {plan, store} = await openLab(name, root)
  if (fault.topologies && !fault.topologies.includes(plan.params.topology)) throw badInput(`${id} needs a ${fault.topologies.join(' or ')} lab; ${name} is ${plan.params.topology}`)
  const existing = appliedFaults(store.current.faults).find((f) => f.id === id)
  if (existing) throw badInput(`fault ${id} is already applied to lab ${name} (node ${existing.node}, target ${existing.target})`, `heal it first: knet lab heal ${id} --name ${name}`)
  const nodeName = options.node ?? fault.defaults.node
  const target = options.target ?? fault.defaults.target
  const ctx = context(plan, store, root, nodeName, target)
  const result = await fault.break(ctx)
  const applied: AppliedFault = {id, node: nodeName, target, appliedAt: new Date().toISOString(), undo: result.undo, ...(result.data ? {data: result.data} : {})}
  await store.update((s) => (s.faults = [...(s.faults ?? []), applied]))
  await resync(fault, plan, store)
  return {schemaVersion: FAULT_RESULT_SCHEMA_VERSION, lab: name, applied, fault: {id, emulates: fault.emulates, expect: fault.expect, api: fault.api}}
}

/** Heal one fault, or every applied fault (last applied first) when id is undefined. */
export async function healFaults(name: string, id?: string, options: {root?: string} = {}): Promise<HealOutcome> {
  if (id !== undefined) requireFault(id)
  assertLabPlatform()
  const root = options.root ?? labRoot()
  const {plan, store} = await openLab(name, root)
  const chosen = appliedFaults(store.current.faults).filter((f) => id === undefined || f.id === id).reverse()
  const healed: AppliedFault[] = []
  for (const applied of chosen) {
    const fault = requireFault(applied.id)
    const ctx = context(plan, store, root, applied.node, applied.target)
    if (fault.heal) await fault.heal(ctx, applied)
    else for (const argv of applied.undo) await run(argv)
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
}

export function faultCatalogue(): FaultCatalogueEntry[] {
  return FAULTS.map((f) => ({id: f.id, emulates: f.emulates, expect: f.expect, api: f.api, defaults: {...f.defaults}, targetHelp: f.targetHelp}))
}
