/**
 * Prints a failed test's errors the moment it fails, not only in the summary at the end of the run:
 * a CI run stopped part-way (over its time limit, or killed) still shows why its tests failed.
 */
import {stripVTControlCharacters} from 'node:util'
import type {Reporter, TestCase} from 'vitest/node'

export default class FailuresNow implements Reporter {
  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.result()
    if (result.state !== 'failed') return
    const lines = [`\nFAILED ${testCase.module.moduleId.replace(`${process.cwd()}/`, '')} > ${testCase.fullName}`]
    for (const error of result.errors ?? []) {
      lines.push(`  ${error.name ?? 'Error'}: ${error.message}`)
      if (error.diff) lines.push(stripVTControlCharacters(error.diff))
      const frames = (error.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l) && !l.includes('node_modules')).slice(0, 3)
      lines.push(...frames)
    }
    process.stderr.write(`${lines.join('\n')}\n`)
  }
}
