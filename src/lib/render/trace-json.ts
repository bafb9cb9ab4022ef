/** trace's JSON contract (schemaVersion 1): exactly the result object, nothing human-only added. */
import type {TraceResult} from '../trace/types.js'

export function renderTraceJson(r: TraceResult): string {
  return `${JSON.stringify(r, null, 2)}\n`
}
