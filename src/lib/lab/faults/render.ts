/** Human text for `knet lab break` / `heal` (JSON is the result objects themselves). */
import type {BreakOutcome, FaultCatalogueEntry, HealOutcome} from './run.js'

export function renderCatalogue(entries: FaultCatalogueEntry[]): string {
  return entries
    .map((f) =>
      [
        `${f.id}  (--node ${f.defaults.node}, --target ${f.defaults.target}: ${f.targetHelp})`,
        `  emulates: ${f.emulates}`,
        `  expect:   ${f.expect}`,
        ...Object.entries(f.expectFor ?? {}).map(([t, text]) => `  expect (${t}): ${text}`),
        ...(f.families ? [`  families: --ip-family ${f.families.join('|')} (a dual-stack lab breaks one family; the other stays delivered)`] : []),
        ...(f.expect6 ? [`  expect (--ip-family 6): ${f.expect6}`] : []),
        `  api:      ${f.api}`,
        ...Object.entries(f.notFor ?? {}).map(([t, why]) => `  not for ${t}: ${why}`),
        ...(f.real ? [`  real lab: ${f.real.refused ? `refused: ${f.real.refused}` : f.real.does}`] : []),
        ...(f.real?.refused6 ? [`  real lab, --ip-family 6: refused: ${f.real.refused6}`] : []),
        ...(f.real?.defaults ? [`  real lab defaults: --node ${f.real.defaults.node}, --target ${f.real.defaults.target}`] : []),
        ...(f.real?.expect ? [`  expect (real lab): ${f.real.expect}`] : []),
      ].join('\n'),
    )
    .join('\n\n')
}

export function renderBreak(r: BreakOutcome): string {
  return [`lab ${r.lab}: broke ${r.applied.id} (node ${r.applied.node}, target ${r.applied.target})`, `  expect: ${r.fault.expect}`, `  heal:   knet lab heal ${r.applied.id} --name ${r.lab}`].join('\n')
}

export function renderHeal(r: HealOutcome): string {
  const what = r.healed.length === 0 ? 'nothing to heal' : `healed ${r.healed.map((f) => f.id).join(', ')}`
  return `lab ${r.lab}: ${what}${r.remaining.length > 0 ? `; still applied: ${r.remaining.join(', ')}` : ''}`
}
