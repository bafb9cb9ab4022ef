#!/usr/bin/env node
/**
 * Writes oclif.manifest.json from the compiled commands in dist/, so `knet --help` and
 * `knet --version` list commands without importing every command module (and, through them,
 * client-node, yaml, the renderers and the lab). `npm run build` (scripts/build.js) removes it
 * before tsc and writes it from the freshly compiled dist/ after; bin/run.js also ignores a
 * manifest older than any compiled command file, so a stale one is never used.
 *
 * This is what `oclif manifest` does, through @oclif/core's own Plugin class: the `oclif` CLI
 * package needs Node 22, and the manifest format belongs to @oclif/core anyway.
 *   node scripts/oclif-manifest.js            write the manifest
 *   node scripts/oclif-manifest.js --remove   delete it (before a build)
 */
import {rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Plugin} from '@oclif/core'

const root = fileURLToPath(new URL('..', import.meta.url))
const file = join(root, 'oclif.manifest.json')

if (process.argv.includes('--remove')) {
  rmSync(file, {force: true})
} else {
  // Load the commands from dist (never a stale manifest), and fail the build on any command that
  // cannot be loaded instead of silently leaving it out.
  const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true})
  await plugin.load()
  const ids = Object.keys(plugin.manifest.commands)
  if (ids.length === 0) throw new Error(`no commands found under ${root}dist/commands: build first`)
  writeFileSync(file, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
  process.stderr.write(`oclif.manifest.json: ${ids.length} commands (${ids.join(', ')})\n`)
}
