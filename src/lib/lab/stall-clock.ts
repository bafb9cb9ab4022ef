/**
 * Deadlines that count only the time this process could run. A watchdog ticking every
 * STALL_TICK_MS adds up how late each tick came: on a loaded machine (two CI runs on two cores, a
 * burst of processes starting) a just-started prober can be off the CPU for seconds, the answers
 * that arrive meanwhile sit in its sockets, and Node runs expired timers before it polls them. A
 * probe's timeout is the time the network had to answer, so the time the prober itself stood
 * still is added back before it calls a silence a timeout.
 */
const STALL_TICK_MS = 50

let stalledMs = 0
let lastTick = 0
let watchdog: NodeJS.Timeout | undefined

/** The total time so far that the event loop did not get to run (beyond the watchdog's tick). */
function noteStall(): number {
  const now = performance.now()
  if (!watchdog) {
    watchdog = setInterval(noteStall, STALL_TICK_MS)
    watchdog.unref()
  } else {
    stalledMs += Math.max(0, now - lastTick - STALL_TICK_MS)
  }
  lastTick = now
  return stalledMs
}

/** Calls `expire` once `ms` of this process's own running time have passed (wall time minus stalls). */
export function deadline(ms: number, expire: () => void): {clear(): void} {
  const stalledAtStart = noteStall()
  let credited = 0
  const check = (): void => {
    const owed = noteStall() - stalledAtStart - credited
    if (owed > 0) {
      credited += owed
      timer = setTimeout(check, owed)
    } else {
      // One more turn of the event loop first: I/O already in the sockets is read before the verdict.
      timer = setTimeout(expire, 0)
    }
  }
  let timer = setTimeout(check, ms)
  return {clear: () => clearTimeout(timer)}
}
