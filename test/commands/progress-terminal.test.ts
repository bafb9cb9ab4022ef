/**
 * Progress while nodes are gathered, as a person at a terminal sees it: `knet doctor --lab` run
 * under script(1), so stderr is a pseudo-terminal, shows `nodes N/M done · slowest: …` redrawn in
 * place, its log lines above it, and erases the line at the end; with stderr not a terminal there
 * is no status line and no control code. JSON on stdout is untouched either way.
 */
import {execa} from 'execa'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {knetAsync as knet} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {uniqueLabName} from '../helpers/unique.js'
import {LAB_TOOLS, tempLabRoot} from '../lib/lab/lab-harness.js'

const RUN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const CLEAR = '\r\u001B[2K'
const CLEAR_RE = CLEAR.replace('[', '\\[')

describeNetns('knet doctor progress on a terminal [root]', () => {
  const name = uniqueLabName('prog')
  let root = ''
  let env: NodeJS.ProcessEnv = {}

  beforeAll(async () => {
    root = tempLabRoot(name)
    env = {KNET_LAB_DIR: root}
    const up = await knet(['lab', 'up', '--name', name, '--nodes', '3', '--pods-per-node', '1'], {env})
    if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`)
  })

  afterAll(async () => {
    await knet(['lab', 'down', '--name', name], {env})
    rmSync(root, {recursive: true, force: true})
  })

  it('on a terminal: the count and the slowest node, redrawn in place, erased at the end', async () => {
    const log = join(root, 'typescript')
    const out = join(root, 'doctor.json')
    // script(1) runs the command on a new pseudo-terminal; stdout goes to a file, stderr stays on the terminal.
    // Awaited: doctor over three nodes can take a minute on a loaded machine, too long to block the worker (helpers/breathe.ts).
    const r = await execa('script', ['-qec', `'${process.execPath}' '${RUN}' doctor --lab ${name} -o json > '${out}'`, log], {
      env: {...env, NO_COLOR: '1', FORCE_COLOR: '0'},
      reject: false,
      timeout: 300_000,
    })
    expect(r.exitCode).toBe(0)
    // script's own header and footer lines frame what the terminal received.
    const screen = readFileSync(log, 'utf8').split('\n').slice(1, -2).join('\n')
    expect(screen).toContain('gathering 3 node(s) via netns')
    expect(screen).toContain(`${CLEAR}nodes 0/3 done`)
    expect(screen).toMatch(new RegExp(`${CLEAR_RE}nodes [0-2]/3 done · slowest: node-[1-3] \\(\\d+s\\)`))
    expect(screen).toContain(`${CLEAR}nodes 3/3 done`)
    // Each node's log line replaces the status line rather than following it on the same line.
    for (const node of ['node-1', 'node-2', 'node-3']) expect(screen).toMatch(new RegExp(`${CLEAR_RE}  ${node}: \\d+ ok`))
    // Erased at the end: the last thing written is the clear, so the shell prompt starts on a clean line.
    expect(screen.trimEnd().endsWith(CLEAR)).toBe(true)
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({schemaVersion: 1})
  })

  it('not a terminal: no status line, no control codes, nothing on stderr', async () => {
    const r = await knet(['doctor', '--lab', name, '-o', 'json'], {env})
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).not.toContain('\u001B')
  })
}, [...LAB_TOOLS, 'script'])
