/**
 * Run the built CLI (dist via bin/run.js) as a user would, capturing output and exit code.
 * KNET_KUBERNETES is dropped from the inherited environment (a test that wants the real-mode lab
 * passes it in options.env): exported in a developer's shell, it would turn every emulated
 * `knet lab up` of the suite into a real one.
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const RUN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  status: number
  stdout: string
  stderr: string
}

/**
 * The CLI run as a child process, without blocking the event loop. There is no synchronous form:
 * a test blocked in spawnSync cannot read the vitest main process's replies, and a run of CLI calls
 * over 60 s (easily reached on a loaded machine) ends the run with "Timeout calling onTaskUpdate"
 * though every test passed (test/setup.ts).
 */
export function knetAsync(args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args], {env: {...process.env, KNET_KUBERNETES: undefined, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env}})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({status: code ?? -1, stdout, stderr}))
    child.stdin.end(options.input ?? '')
  })
}
