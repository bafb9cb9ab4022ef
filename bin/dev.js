#!/usr/bin/env -S node --import tsx --no-warnings
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {execute, Plugin, settings} from '@oclif/core'

// Development runs the TypeScript sources directly (tsx is loaded by the shebang): commands are
// discovered in src/commands, and oclif.manifest.json (a snapshot of the last build) is ignored.
const root = fileURLToPath(new URL('..', import.meta.url))
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif.commands = {...pjson.oclif.commands, target: './src/commands'}
settings.enableAutoTranspile = false // oclif's own tsx/ts-node registration: tsx is already loaded
const plugin = new Plugin({root, pjson, type: 'core', isRoot: true, ignoreManifest: true})
await plugin.load()
// Given its plugins, oclif loads no others: the core plugins of package.json (autocomplete) are added here.
const plugins = new Map([[plugin.name, plugin]])
for (const name of pjson.oclif.plugins ?? []) {
  const core = new Plugin({name, root, type: 'core'})
  await core.load()
  plugins.set(core.name, core)
}
await execute({development: true, loadOptions: {root, pjson, plugins}})
