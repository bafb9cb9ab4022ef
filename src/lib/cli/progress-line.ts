/**
 * Progress on a terminal's stderr while nodes are gathered: one status line (render/node-progress.ts)
 * redrawn in place, with the gather's log lines printed above it, and erased when the gather ends.
 * Nothing at all when stderr is not a terminal: pipes, files and CI logs get no control codes and
 * no status lines.
 */
import type {NodeProgress} from '../gather/node/progress.js'
import {applyProgress, emptyProgress, progressLine} from '../render/node-progress.js'

export interface TerminalProgress {
  /** A log line, printed above the status line. */
  onProgress: (message: string) => void
  onNodeProgress: (event: NodeProgress) => void
  /** Erase the status line and stop redrawing; the terminal is as it was. */
  stop: () => void
}

interface Stream {
  isTTY?: boolean
  columns?: number
  write(text: string): unknown
}

const CLEAR_LINE = '\r\u001B[2K'

export function terminalProgress(stream: Stream = process.stderr, clock: () => number = Date.now): TerminalProgress | undefined {
  if (!stream.isTTY) return undefined
  let state = emptyProgress()
  let shown = false
  const draw = (): void => {
    if (state.total === 0) return
    stream.write(`${CLEAR_LINE}${progressLine(state, clock(), stream.columns || 80)}`)
    shown = true
  }
  const erase = (): void => {
    if (shown) stream.write(CLEAR_LINE)
    shown = false
  }
  // The slowest node's time keeps counting between events.
  const ticker = setInterval(draw, 1000)
  ticker.unref()
  return {
    onProgress(message) {
      erase()
      stream.write(`${message}\n`)
      draw()
    },
    onNodeProgress(event) {
      state = applyProgress(state, event, clock())
      draw()
    },
    stop() {
      clearInterval(ticker)
      erase()
    },
  }
}
