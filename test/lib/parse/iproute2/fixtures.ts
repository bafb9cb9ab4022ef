/** Loads captured and hand-written iproute2 fixtures (test/fixtures/iproute2). */
import {readdirSync, readFileSync} from 'node:fs'
import type {CapturedScenario} from '../../../fixtures/iproute2/capture.js'

const dir = new URL('../../../fixtures/iproute2/', import.meta.url)

export function loadScenario(file: string): CapturedScenario {
  return JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as CapturedScenario
}

/** Every stdout for a command key across all fixture files and namespaces (fuzz seeds). */
export function samplesFor(key: string): string[] {
  const out: string[] = []
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    for (const ns of Object.values(loadScenario(f).namespaces)) {
      const c = ns[key]
      if (c) out.push(c.stdout)
    }
  }
  return out
}

export function capturedStdout(file: string, ns: string, key: string): string {
  const c = loadScenario(file).namespaces[ns]?.[key]
  if (!c) throw new Error(`${file}: no ${ns}.${key}`)
  return c.stdout
}
