import type {ErrorKind} from './errors.js'

/**
 * Evidence that could not be gathered. Kept apart from findings: "node-2 timed out" is not
 * "no route on node-2", and whatever needs the missing evidence says "skipped" instead of passing.
 */
export interface CollectionError {
  /** The node the evidence was for, when it was node evidence. */
  node?: string
  /** What was being gathered: a catalogue id ("iptables-save"), an API resource ("networkpolicies"). */
  source: string
  kind: ErrorKind
  message: string
}
