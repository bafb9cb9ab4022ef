/**
 * What a fault is: a documented, reversible change to a running lab that emulates one real-world
 * networking failure. Each fault lives in its own file; registry.ts lists them.
 */
import type {KubeProxyModel} from '../kube-proxy-rules.js'
import type {KubeObject} from '../objects.js'
import type {Family, LabPlan, NodePlan, Topology} from '../plan.js'
import type {LabStateStore} from '../state.js'
import type {RealLab} from './real.js'

/** What the state file records for an applied fault: enough for `heal` to restore exactly. */
export interface AppliedFault {
  id: string
  /** The node the fault acts on ("all" for faults applied on every node). */
  node: string
  target: string
  appliedAt: string
  /** argv run in order by the default heal: the inverse of what break did (original routes, values). */
  undo: string[][]
  /** Anything else a fault's own heal needs (e.g. which endpoint was removed). */
  data?: Record<string, string | number>
}

export interface FaultContext {
  plan: LabPlan
  store: LabStateStore
  root: string
  /** Resolved --node (a plan node, or undefined for "all"). */
  node: NodePlan | undefined
  nodeName: string
  target: string
  /** Set on a real lab (`lab up --kubernetes`): its API and kube-proxy mode. */
  real?: RealLab
  /** The address family a per-family fault acts on (`break --ip-family`; default the lab's primary one). */
  family: Family
}

/**
 * How a fault behaves on a real lab. Without `break`, the emulated break runs as it is (the fault
 * is Linux state no controller repairs); derived state (objects.json, rewritten nat tables) is never
 * touched there: the real API server and kube-proxy own it.
 */
export interface RealMode {
  /** What the fault does on a real lab (shown by --list). */
  does: string
  /** Why the fault is refused on a real lab (break refuses it; --list says why). */
  refused?: string
  /** Why its IPv6 variant (--ip-family 6) is refused on a real dual-stack lab. */
  refused6?: string
  /** Defaults where they differ from the emulated ones. */
  defaults?: {node: string; target: string}
  /** The probe outcomes on a real lab where they differ from `expect`. */
  expect?: string
  /** `emulated` runs the fault's emulated break on the same context. */
  break?(ctx: FaultContext & {real: RealLab}, emulated: () => Promise<BreakResult>): Promise<BreakResult>
  /** `emulated` runs the fault's emulated heal (or its recorded undo). */
  heal?(ctx: FaultContext & {real: RealLab}, applied: AppliedFault, emulated: () => Promise<void>): Promise<void>
}

export interface BreakResult {
  undo: string[][]
  data?: Record<string, string | number>
}

export interface Fault {
  id: string
  /** The real-world failure it emulates, in one or two sentences. */
  emulates: string
  /** The documented probe outcome change with the defaults (tests assert exactly this). */
  expect: string
  /** What changes besides Linux state: "API: …" or that the API is untouched. */
  api: string
  defaults: {node: string; target: string}
  /** What --target names for this fault. */
  targetHelp: string
  topologies?: readonly Topology[]
  /** Topologies the fault does not apply to, with why (shown by --list; break refuses them). */
  notFor?: Partial<Record<Topology, string>>
  /** The probe outcomes on a topology where they differ from `expect`. */
  expectFor?: Partial<Record<Topology, string>>
  /**
   * Families the fault can be applied to one at a time (`break --ip-family 4|6`); absent: the fault is
   * not per family (it breaks whatever both families share, or only IPv4) and refuses --ip-family.
   */
  families?: readonly Family[]
  /** The probe outcomes with --ip-family 6 on a dual-stack lab. */
  expect6?: string
  /** Defaults with --ip-family 6 where they differ. */
  defaults6?: {node: string; target: string}
  break(ctx: FaultContext): Promise<BreakResult>
  /** On a real lab (see RealMode); absent: the emulated break and heal, no derived-state sync. */
  real?: RealMode
  /** Default: run the recorded undo argv in order. */
  heal?(ctx: FaultContext, applied: AppliedFault): Promise<void>
  /** The API objects while the fault is applied (objects.json is recomputed on every break/heal). */
  objects?(objects: KubeObject[], applied: AppliedFault, plan: LabPlan): KubeObject[]
  /** What kube-proxy programs on `node` while the fault is applied (nat table recomputed on break/heal). */
  kubeProxy?(model: KubeProxyModel, node: NodePlan, applied: AppliedFault, plan: LabPlan): KubeProxyModel
}
