/**
 * POSIX shell quoting, for the one place knet must hand a remote side a single string: ssh sends
 * its command as one line that the login shell on the node splits again (`$SHELL -c LINE`).
 * Every word is single-quoted unless it is made only of characters no POSIX shell treats
 * specially, so the remote shell yields exactly the argv that was quoted. The tests prove it with
 * arbitrary argv through real `sh -c` (dash and bash) and through a real sshd.
 */

// Characters that are never special in any POSIX shell word, in any position (no '~', '=', '#').
const PLAIN = /^[A-Za-z0-9_./:@%+,-]+$/

/** One word, quoted so that any POSIX shell reads it back as exactly `word`. */
export function quotePosix(word: string): string {
  // A NUL cannot be in an argv element at all: refuse rather than silently cut the word.
  if (word.includes('\0')) throw new Error('a shell word cannot contain a NUL byte')
  if (PLAIN.test(word)) return word
  // Inside single quotes nothing is special except the closing quote: end the quoted run, add an
  // escaped quote, start a new one.
  return `'${word.replaceAll("'", `'\\''`)}'`
}

/** argv → one command line for `sh -c`: the shell splits it back into exactly argv. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quotePosix).join(' ')
}
