import {defineConfig} from 'vitest/config'
import {BaseSequencer, type TestSpecification} from 'vitest/node'

/**
 * The lab suites run longest (one lab, every fault), yet their files are small: on a machine with
 * no results cache (CI's first pass) vitest's own order (biggest file first) would start them last
 * and the whole run would wait for them. They go first; everything else keeps vitest's order.
 */
class LabSuitesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const lab = (f: TestSpecification): boolean => /\/test\/commands\/(lab-faults-|lab-dualstack|lab-ipv6only|lab-real|trace-lab-)/.test(f.moduleId)
    return [...sorted.filter(lab), ...sorted.filter((f) => !lab(f))]
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    // Much of the suite waits (labs coming up, probes timing out, CLI start-ups) rather than
    // computes, so more files than cores run at once. Root suites use unique namespace and lab
    // names, so they can overlap.
    maxWorkers: 4,
    minWorkers: 1,
    // Hang detectors, not speed limits: CI must pass with a second CI run on the same two cores.
    // Two CI runs and four other processes' tests at once (load 30–37 on 2 cores) took a real
    // `knet lab up` to 130–200 s and one real fault cycle past 240 s: a limit is about 10× a
    // test's time on an idle machine. Lab suites rely on these (no per-test values).
    testTimeout: 600_000,
    hookTimeout: 900_000,
    // failures-now: a failed test's errors as it fails (the default reporter keeps them for the end).
    reporters: ['default', './test/reporters/failures-now.ts'],
    sequence: {sequencer: LabSuitesFirst},
  },
})
