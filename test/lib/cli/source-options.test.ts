/** --timeout (30 s by default): each API request's limit, and the least each node command may take. */
import {describe, expect, it} from 'vitest'
import {analysisSourceOptions} from '../../../src/lib/cli/source-options.js'

describe('analysisSourceOptions --timeout', () => {
  it('is the API limit and the floor of every node command', () => {
    const o = analysisSourceOptions({parallel: 4, timeout: 120_000}, {knetVersion: 't', command: 'knet doctor'})
    expect({timeoutMs: o.timeoutMs, commandTimeoutMs: o.commandTimeoutMs}).toEqual({timeoutMs: 120_000, commandTimeoutMs: 120_000})
  })
})
