/** A line a parser could not read, with its 1-based line number in the raw text (0 = whole input). */
export interface ParseProblem {
  line: number
  message: string
  /** The offending text, shortened, so a report can quote it. */
  text?: string
}

/** Every parser returns what it could read plus what it could not; none of them throws. */
export interface ParseResult<T> {
  value: T
  problems: ParseProblem[]
}

export function problem(line: number, message: string, text?: string): ParseProblem {
  return text === undefined ? {line, message} : {line, message, text: text.length > 200 ? `${text.slice(0, 200)}…` : text}
}
