import {execFileSync} from 'node:child_process'
import {existsSync, realpathSync} from 'node:fs'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {quoteArgv, quotePosix} from '../../../../src/lib/gather/node/shell-quote.js'

/** What a POSIX shell makes of `printf '%s\0' LINE`: the words it passed to printf. */
function wordsAfterShell(shell: string, line: string): string[] {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${line}`], {encoding: 'utf8'})
  return out.split('\0').slice(0, -1)
}

// Words a shell could misread: every metacharacter, quotes, expansions, globs, whitespace, UTF-8.
const nasty = fc.constantFrom(
  "'", '"', '\\', '$', '`', '!', '*', '?', '[', ']', '{', '}', '(', ')', '<', '>', '|', '&', ';', '#', '~', '=', '%',
  ' ', '\t', '\n', '\r', '$(id)', '`id`', '${HOME}', '$HOME', "'\\''", '-', '--', '-n', '-e', 'é', '日本', '\u{1F600}', '\x01', '\x7f',
)
const word = fc
  .oneof(
    fc.string({maxLength: 12}),
    fc.string({unit: 'grapheme', maxLength: 8}),
    fc.array(nasty, {maxLength: 6}).map((parts) => parts.join('')),
    fc.string({unit: fc.constantFrom('a', "'", '\\', '$', ' ', '=', '\n', '*'), maxLength: 10}),
  )
  // No NUL (argv cannot hold one) and no lone surrogate (not representable in UTF-8 argv).
  .filter((w) => !w.includes('\0') && !/\p{Cs}/u.test(w))
// printf runs its format on an empty argument list once, so argv always has at least one word.
const argv = fc.array(word, {minLength: 1, maxLength: 8})

// /bin/sh is dash on Debian and bash elsewhere: each distinct shell once.
const shells = [...new Map(['/bin/sh', '/bin/dash', '/bin/bash'].filter((s) => existsSync(s)).map((s) => [realpathSync(s), s])).values()]

describe('POSIX shell quoting', () => {
  it('leaves plain words alone and single-quotes everything else', () => {
    expect(quoteArgv(['ip', '-j', 'route', 'show', 'table', 'all'])).toBe('ip -j route show table all')
    expect(quoteArgv(['grep', '-r', '-H', '--include=rp_filter', '.', '/proc/sys/net/ipv4/conf'])).toBe("grep -r -H '--include=rp_filter' . /proc/sys/net/ipv4/conf")
    expect(quotePosix('')).toBe("''")
    expect(quotePosix("it's")).toBe(`'it'\\''s'`)
    expect(quotePosix('$(reboot)')).toBe("'$(reboot)'")
    // An assignment word unquoted at the start of a line would set a variable instead of running it.
    expect(quotePosix('A=b')).toBe("'A=b'")
  })

  it('refuses a NUL byte, which no argv element can hold', () => {
    expect(() => quotePosix('a\0b')).toThrow(/NUL/)
  })

  for (const shell of shells) {
    it(`round-trips arbitrary argv through a real ${shell} -c`, () => {
      fc.assert(
        fc.property(argv, (words) => {
          expect(wordsAfterShell(shell, quoteArgv(words))).toEqual(words)
        }),
        {numRuns: 100},
      )
    })
  }
})
