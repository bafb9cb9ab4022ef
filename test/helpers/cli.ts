/** Run the built CLI (dist via bin/run.js) as a user would, capturing output and exit code. */
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const RUN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  status: number
  stdout: string
  stderr: string
}

export function knet(args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}): CliResult {
  const r = spawnSync(process.execPath, [RUN, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env},
    timeout: 120_000,
  })
  return {status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}
