import {defineConfig} from 'vitest/config'

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
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
})
