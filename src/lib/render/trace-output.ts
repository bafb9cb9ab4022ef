/** trace's output formats in one place, so the command only names the format. */
import type {TraceResult} from '../trace/types.js'
import type {TraceFormat} from './formats.js'
import {renderTraceDot} from './trace-dot.js'
import {renderTraceJson} from './trace-json.js'
import {renderTraceMermaid} from './trace-mermaid.js'
import {renderTraceSummary} from './trace-summary.js'
import {renderTraceTable} from './trace-table.js'


export interface TraceOutputOptions {
  width: number
  color: boolean
  /** -v: every hop with all its evidence, every branch in full. */
  verbose: boolean
}

export function renderTraceOutput(r: TraceResult, format: TraceFormat, o: TraceOutputOptions): string {
  if (format === 'json') return renderTraceJson(r)
  if (format === 'mermaid') return renderTraceMermaid(r)
  if (format === 'dot') return renderTraceDot(r)
  const layout = {width: o.width, color: o.color}
  return `${o.verbose ? renderTraceTable(r, layout) : renderTraceSummary(r, layout)}\n`
}
