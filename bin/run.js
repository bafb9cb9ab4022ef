#!/usr/bin/env node
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execute, Plugin} from '@oclif/core'

// oclif.manifest.json (written by every `npm run build`) lets --help and --version answer without
// importing every command. A manifest older than a compiled command (dist rebuilt by a bare `tsc`)
// could list stale commands or flags, so it is then ignored: slower, never wrong.
const root = fileURLToPath(new URL('..', import.meta.url))

function manifestIsCurrent() {
  let written
  try {
    written = statSync(join(root, 'oclif.manifest.json')).mtimeMs
  } catch {
    return true // no manifest: oclif reads the commands themselves
  }
  const dir = join(root, 'dist', 'commands')
  try {
    for (const f of readdirSync(dir, {recursive: true})) {
      if (f.endsWith('.js') && statSync(join(dir, f)).mtimeMs > written) return false
    }
  } catch {
    return false
  }
  return true
}

if (manifestIsCurrent()) {
  await execute({dir: import.meta.url})
} else {
  const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true})
  await plugin.load()
  // Given its plugins, oclif loads no others: the core plugins of package.json (autocomplete) are added here.
  const plugins = new Map([[plugin.name, plugin]])
  for (const name of plugin.pjson.oclif.plugins ?? []) {
    const core = new Plugin({name, root, type: 'core'})
    await core.load()
    plugins.set(core.name, core)
  }
  await execute({loadOptions: {root, plugins}})
}
