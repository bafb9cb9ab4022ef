/**
 * The default human views as a person sees them: the built CLI in a real terminal (tmux) at 80 and
 * 120 columns, the screen captured and compared with golden files in test/commands/golden/.
 * `UPDATE_GOLDEN=1` rewrites them. Colour is on in a terminal unless NO_COLOR is set; the goldens
 * are captured with NO_COLOR=1, and one run without it checks that colour does appear.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'

const RUN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`../lib/render/fixtures/${name}`, import.meta.url))
const golden = (name: string) => fileURLToPath(new URL(`golden/${name}`, import.meta.url))
const TMUX = spawnSync('sh', ['-c', 'command -v tmux']).status === 0
const SOCKET = `knet-views-${process.pid}`
const DONE = '__knet_view_done__'
// ANSI SGR sequences (colour, bold): built from a string so the pattern holds no control character.
const ESC = '\u001B'
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g')
const COLOUR = new RegExp(`${ESC}\\[(?:3[1-7]|1)m`)

const tmux = (...args: string[]) => spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], {encoding: 'utf8'})
afterAll(() => {
  if (TMUX) tmux('kill-server')
})

/** Run knet in a fresh tmux window of `columns` × 100 and return the screen (trailing blanks trimmed). */
async function screen(columns: number, args: string[], env: Record<string, string> = {NO_COLOR: '1'}): Promise<{text: string; raw: string; joined: string}> {
  const name = `v${columns}-${Math.random().toString(36).slice(2, 8)}`
  const envs = Object.entries(env).map(([k, v]) => `${k}=${v}`)
  const cmd = ['env', '-u', 'FORCE_COLOR', ...envs, process.execPath, RUN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const started = tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', '100', `${cmd}; echo ${DONE}; sleep 60`)
  expect(started.stderr).toBe('')
  // A hang detector: the CLI's start on a loaded machine (two CI runs) takes seconds, not minutes.
  const deadline = Date.now() + 300_000
  let raw = ''
  while (Date.now() < deadline) {
    raw = tmux('capture-pane', '-p', '-e', '-t', name).stdout
    if (raw.includes(DONE)) break
    await new Promise((r) => setTimeout(r, 200))
  }
  // -J joins what the terminal wrapped by itself: a line longer than the window is one it had to wrap.
  const joined = tmux('capture-pane', '-p', '-J', '-t', name).stdout
  tmux('kill-session', '-t', name)
  const upTo = (s: string) => s.replace(SGR, '').split(DONE)[0]?.replace(/[ \t]+$/gm, '').trimEnd() ?? ''
  return {text: `${upTo(raw)}\n`, raw, joined: upTo(joined)}
}

/** The count line names how many checks the catalogue has, which grows: not part of the picture. */
const stable = (text: string) => text.replace(/\(\d+ checks on /, '(N checks on ')

function matchGolden(name: string, text: string): void {
  const file = golden(name)
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, text)
  expect(text).toBe(readFileSync(file, 'utf8'))
}

const VIEWS: [string, string[]][] = [
  ['trace-svc-healthy', ['trace', 'web-1-1', 'svc/default/web:80', '--snapshot', fixture('svc-healthy.json.gz')]],
  ['trace-svc-stale-nat', ['trace', 'web-1-1', 'svc/default/web:80', '--snapshot', fixture('svc-stale-nat.json.gz')]],
  ['doctor-stale-nat', ['doctor', '--snapshot', fixture('svc-stale-nat.json.gz')]],
]

describe.skipIf(!TMUX)('the default views in a terminal (tmux)', () => {
  for (const columns of [80, 120]) {
    for (const [name, args] of VIEWS) {
      it(`${name} at ${columns} columns`, async () => {
        const {text, joined} = await screen(columns, args)
        matchGolden(`${name}.${columns}.txt`, stable(text))
        // knet wraps at words; the terminal had to wrap nothing but a word longer than a line.
        for (const line of joined.split('\n')) if (line.length > columns) expect(line.trim()).not.toMatch(/\s/)
        if (name.startsWith('trace-svc')) expect(text.split('\n').length).toBeLessThanOrEqual(name.endsWith('healthy') ? 25 : 40)
      }, 600_000)
    }
  }

  it('colour in a terminal, none with NO_COLOR', async () => {
    const args = VIEWS[1]?.[1] as string[]
    expect((await screen(100, args, {})).raw).toMatch(SGR)
    expect((await screen(100, args, {NO_COLOR: '1'})).raw).not.toMatch(COLOUR)
  }, 600_000)
})
if (!TMUX) it.skip('terminal views: tmux is not installed (apt-get install tmux)', () => {})
