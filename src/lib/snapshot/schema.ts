/**
 * The snapshot: knet's versioned, replayable evidence file. It keeps each command's raw output
 * (argv, stdout, stderr, exit code, duration) rather than parsed results, so parsers can improve
 * and old snapshots still replay through them.
 *
 * Compatibility: a reader accepts every schemaVersion up to SNAPSHOT_SCHEMA_VERSION and refuses
 * newer ones. Adding optional fields does not bump the version; changing a meaning does.
 */
import {z} from 'zod'
import {clusterEvidenceSchema} from '../gather/cluster/evidence.js'

export const SNAPSHOT_SCHEMA_VERSION = 1
export const SNAPSHOT_KIND = 'KnetSnapshot'

export const COMMAND_STATUSES = ['ok', 'unavailable', 'failed', 'timeout'] as const
export type CommandStatus = (typeof COMMAND_STATUSES)[number]

export const commandResultSchema = z.object({
  /** Catalogue id (links, routes4, iptables-save, …). */
  id: z.string(),
  /** The catalogue argv, as it would run on the node itself. */
  argv: z.array(z.string()),
  /** What really ran, transport included (ip netns exec …, kubectl-less exec, ssh …). */
  execArgv: z.array(z.string()),
  status: z.enum(COMMAND_STATUSES),
  /** Why a result is not ok, in one line. */
  reason: z.string().optional(),
  exitCode: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  durationMs: z.number().nonnegative(),
  /** stdout was cut at the catalogue's cap. */
  truncated: z.boolean(),
})
export type CommandResult = z.infer<typeof commandResultSchema>

export const nodeEvidenceSchema = z.object({
  name: z.string(),
  access: z.object({kind: z.string(), target: z.string()}),
  results: z.array(commandResultSchema),
})
export type NodeEvidence = z.infer<typeof nodeEvidenceSchema>

export const collectionErrorSchema = z.object({
  node: z.string().optional(),
  source: z.string(),
  kind: z.string(),
  message: z.string(),
})

export const snapshotSchema = z.object({
  schemaVersion: z.number().int().positive(),
  kind: z.literal(SNAPSHOT_KIND),
  meta: z.object({
    knetVersion: z.string(),
    capturedAt: z.string(),
    /** How node evidence was read: local, netns, none, … */
    nodeAccess: z.string(),
    /** Where the cluster state came from, when there is any. */
    clusterSource: z.enum(['api', 'objects-file']).nullable(),
    /** The command line that produced the snapshot, for the record. */
    command: z.string().optional(),
    catalog: z.array(z.string()),
  }),
  nodes: z.array(nodeEvidenceSchema),
  cluster: clusterEvidenceSchema.nullable(),
  collectionErrors: z.array(collectionErrorSchema),
})

export type Snapshot = z.infer<typeof snapshotSchema>
