/**
 * Shell completion (oclif's plugin-autocomplete): `knet autocomplete bash|zsh` prints the setup
 * and writes the completion scripts under the cache directory; the bash script completes a command
 * name and a flag when its function is called as bash calls it, and the zsh one completes in a real
 * interactive zsh (in tmux). Each run gets its own HOME and XDG_CACHE_HOME.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {knetAsync} from '../helpers/cli.js'

const RUN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
const ZSH = has('zsh')
const TMUX = has('tmux')

const home = mkdtempSync(join(tmpdir(), 'knet-complete-'))
const cache = join(home, 'cache')
const env = {HOME: home, XDG_CACHE_HOME: cache}
const functions = join(cache, 'knet', 'autocomplete', 'functions')
// `knet` on PATH, as `npm install -g` puts it.
const binDir = join(home, 'bin')
mkdirSync(binDir)
symlinkSync(RUN, join(binDir, 'knet'))
const PATH = `${binDir}:${dirname(process.execPath)}:/usr/bin:/bin`
const SOCKET = `knet-complete-${process.pid}`
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], {encoding: 'utf8'})

afterAll(() => {
  if (TMUX) tmux('kill-server')
  rmSync(home, {recursive: true, force: true})
})

/** What bash's completion function offers for the words typed so far (the last one being completed). */
function bashComplete(script: string, words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ')
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _knet_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
    env: {PATH},
  })
  expect(r.stderr).toBe('')
  return r.stdout.split('\n').filter(Boolean)
}

describe('knet autocomplete', () => {
  it('bash: prints the setup, writes the script, and the script completes commands, subcommands and flags', async () => {
    const r = await knetAsync(['autocomplete', 'bash'], {env})
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('printf "$(knet autocomplete script bash)" >> ~/.bashrc; source ~/.bashrc')
    const script = join(functions, 'bash', 'knet.bash')
    expect(existsSync(script)).toBe(true)
    expect(readFileSync(script, 'utf8')).toContain('complete -F _knet_autocomplete knet')
    // `knet autocomplete script bash` is the line the setup appends to ~/.bashrc: it sources the setup file, which sources the script.
    expect((await knetAsync(['autocomplete', 'script', 'bash'], {env})).stdout).toContain(join(cache, 'knet', 'autocomplete', 'bash_setup'))
    expect(bashComplete(script, ['knet', 'do'])).toEqual(['doctor'])
    expect(bashComplete(script, ['knet', 'lab', 'b'])).toEqual(['break'])
    expect(bashComplete(script, ['knet', 'trace', '--names'])).toEqual(['--namespace'])
  })

  it('zsh: prints the setup and writes _knet', async () => {
    const r = await knetAsync(['autocomplete', 'zsh'], {env})
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('knet autocomplete script zsh')
    expect(readFileSync(join(functions, 'zsh', '_knet'), 'utf8').split('\n')[0]).toBe('#compdef knet')
    expect(existsSync(join(cache, 'knet', 'autocomplete', 'zsh_setup'))).toBe(true)
  })

  it.skipIf(!ZSH || !TMUX)(`zsh completes a command name in an interactive shell${ZSH && TMUX ? '' : ` (skipped: ${ZSH ? 'tmux' : 'zsh'} is not installed)`}`, async () => {
    expect((await knetAsync(['autocomplete', 'zsh'], {env})).status).toBe(0)
    const setup = join(cache, 'knet', 'autocomplete', 'zsh_setup')
    const started = tmux('new-session', '-d', '-s', 'zsh', '-x', '120', '-y', '20', `env -i HOME=${home} XDG_CACHE_HOME=${cache} PATH=${PATH} TERM=xterm zsh -f`)
    expect(started.stderr).toBe('')
    tmux('send-keys', '-t', 'zsh', `PS1='> '; source ${setup}`, 'Enter')
    tmux('send-keys', '-t', 'zsh', 'knet doc', 'Tab')
    let screen = ''
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      screen = tmux('capture-pane', '-p', '-t', 'zsh').stdout
      if (/^> knet doctor/m.test(screen)) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(screen).toMatch(/^> knet doctor\s*$/m)
  }, 600_000)
})
