/**
 * How human output is laid out for where it goes: the width of the terminal (COLUMNS when stdout
 * is not one, else 120) and colour only on a terminal without NO_COLOR (https://no-color.org: any
 * non-empty value). Pipes, files and CI logs get plain text.
 */
export interface TerminalLayout {
  width: number
  color: boolean
}

export function stdoutLayout(stream: {columns?: number; isTTY?: boolean} = process.stdout, env: NodeJS.ProcessEnv = process.env): TerminalLayout {
  const columns = stream.isTTY && stream.columns ? stream.columns : Number(env.COLUMNS) || 120
  return {width: columns, color: Boolean(stream.isTTY) && !env.NO_COLOR}
}
