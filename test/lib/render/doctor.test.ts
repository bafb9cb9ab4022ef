import {describe, expect, test} from 'vitest'
import {parse} from 'yaml'
import {CHECKS} from '../../../src/lib/checks/registry.js'
import {catalogueJson, renderDoctorJson, renderDoctorYaml} from '../../../src/lib/render/doctor-json.js'
import {renderCatalogue, renderDoctorTable, summaryLine, wrap} from '../../../src/lib/render/doctor-table.js'
import {renderJunit} from '../../../src/lib/render/junit.js'
import {renderSarif} from '../../../src/lib/render/sarif.js'
import {toDoctorJson} from '../../../src/lib/report/report.js'
import {SMALL_CHECKS, SMALL_REPORT} from './report-fixture.js'

describe('doctor table', () => {
  test('grouped by severity, fixed width, colour off: exact output', () => {
    expect(renderDoctorTable(SMALL_REPORT, {width: 140, color: false})).toBe(
  [
    "ERROR (1)",
    "SEVERITY  CHECK                             SUBJECT                           FINDING                   EVIDENCE",
    "error     route-nexthop-wrong               node node-1                       VXLAN traffic for         node-1: bridge -j fdb show",
    "                                                                              node-3's pod CIDR           0a:00:00:00:03:00 dev flannel.1",
    "                                                                              10.244.3.0/24 is sent to    dst 10.100.0.9 self permanent",
    "                                                                              VTEP 10.100.0.9, which",
    "                                                                              is no node's address",
    "",
    "WARN (1)",
    "SEVERITY  CHECK                             SUBJECT                           FINDING                   EVIDENCE",
    "warn      service-selector-matches-nothing  service default/web               selector app=wbe matches  api: Service default/web",
    "                                                                              none of the 2 pods in     spec.selector",
    "                                                                              namespace default           app=wbe",
    "",
    "INFO (1)",
    "SEVERITY  CHECK                             SUBJECT                           FINDING                   EVIDENCE",
    "info      netpol-isolates                   networkpolicy                     default-deny ingress for  api: NetworkPolicy",
    "                                            default/default-deny              2 pod(s) in default:      default/default-deny spec.ingress",
    "                                                                              web-1, web-2                []",
    "",
    "SKIPPED (1)",
    "  conntrack-stale: skipped: conntrack unavailable on node-1 (conntrack: command not found)",
    "",
    "COLLECTION ERRORS (1)",
    "  node-2 iptables-save: iptables-save: permission denied",
    "",
    "1 error, 1 warning, 1 info, 1 skipped (4 checks on 2 nodes); 1 collection error",
  ].join('\n'),
    )
  })

  test('colour only when asked for', () => {
    const ESC = String.fromCharCode(27)
    expect(renderDoctorTable(SMALL_REPORT, {width: 140, color: false})).not.toContain(ESC)
    expect(renderDoctorTable(SMALL_REPORT, {width: 140, color: true})).toContain(`${ESC}[31m${ESC}[1mERROR (1)`)
  })

  test('summary line with plurals, and "No findings."', () => {
    const empty = {...SMALL_REPORT, findings: [], skipped: [], collectionErrors: []}
    expect(summaryLine(empty)).toBe('0 errors, 0 warnings, 0 info, 0 skipped (4 checks on 2 nodes)')
    expect(renderDoctorTable(empty, {width: 80, color: false})).toBe('No findings.\n\n0 errors, 0 warnings, 0 info, 0 skipped (4 checks on 2 nodes)')
  })

  test('wrap keeps words whole and cuts only words longer than the width', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc'])
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
  })

  test('catalogue: id, severity, title', () => {
    const text = renderCatalogue(CHECKS)
    expect(text.split('\n')[0]).toBe('CHECK                             SEVERITY  TITLE')
    expect(text).toContain('cidr-overlap                      error     Pod, Service and node address ranges do not overlap')
    expect(text.split('\n')).toHaveLength(CHECKS.length + 1)
    expect(catalogueJson(CHECKS).checks[0]).toEqual(expect.objectContaining({id: 'cidr-overlap', severity: 'error', requires: ['cluster:nodes', 'cluster:services']}))
  })
})

describe('machine outputs', () => {
  test('JSON is the contract document', () => {
    expect(JSON.parse(renderDoctorJson(SMALL_REPORT))).toEqual(toDoctorJson(SMALL_REPORT))
  })

  test('YAML is the same document', () => {
    expect(parse(renderDoctorYaml(SMALL_REPORT))).toEqual(toDoctorJson(SMALL_REPORT))
  })

  test('JUnit: one testcase per check, failures at --fail-on, skipped checks as <skipped>', () => {
    const xml = renderJunit(SMALL_REPORT, SMALL_CHECKS, 'error')
    expect(xml).toBe(
  [
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    "<testsuites name=\"knet doctor\" tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\">",
    "  <testsuite name=\"knet doctor\" tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\">",
    "    <testcase classname=\"knet.doctor\" name=\"route-nexthop-wrong\">",
    "      <failure type=\"error\" message=\"node node-1: VXLAN traffic for node-3&apos;s pod CIDR 10.244.3.0/24 is sent to VTEP 10.100.0.9, which is no node&apos;s address\">node node-1 on node-1: VXLAN traffic for node-3&apos;s pod CIDR 10.244.3.0/24 is sent to VTEP 10.100.0.9, which is no node&apos;s address",
    "  node-1: bridge -j fdb show: 0a:00:00:00:03:00 dev flannel.1 dst 10.100.0.9 self permanent</failure>",
    "    </testcase>",
    "    <testcase classname=\"knet.doctor\" name=\"conntrack-stale\">",
    "      <skipped message=\"conntrack unavailable on node-1 (conntrack: command not found)\"/>",
    "    </testcase>",
    "    <testcase classname=\"knet.doctor\" name=\"service-selector-matches-nothing\">",
    "      <system-out>[warn] service default/web: selector app=wbe matches none of the 2 pods in namespace default",
    "  api: Service default/web spec.selector: app=wbe</system-out>",
    "    </testcase>",
    "    <testcase classname=\"knet.doctor\" name=\"netpol-isolates\">",
    "      <system-out>[info] networkpolicy default/default-deny: default-deny ingress for 2 pod(s) in default: web-1, web-2",
    "  api: NetworkPolicy default/default-deny spec.ingress: []</system-out>",
    "    </testcase>",
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join('\n'),
    )
    expect(wellFormed(xml)).toBe(true)
    // With --fail-on info every finding is a failure.
    expect(renderJunit(SMALL_REPORT, SMALL_CHECKS, 'info').match(/<failure /g)).toHaveLength(3)
  })

  test('SARIF 2.1.0: a rule per check, levels error/warning/note, logical locations', () => {
    const sarif = JSON.parse(renderSarif(SMALL_REPORT, SMALL_CHECKS, '0.1.0')) as {
      version: string
      runs: {tool: {driver: {rules: {id: string; defaultConfiguration: {level: string}}[]}}; results: {ruleId: string; ruleIndex: number; level: string; locations: {logicalLocations: {fullyQualifiedName: string}[]}[]}[]}[]
    }
    expect(sarif.version).toBe('2.1.0')
    const run = sarif.runs[0]
    expect(run?.tool.driver.rules.map((r) => [r.id, r.defaultConfiguration.level])).toEqual([
      ['route-nexthop-wrong', 'error'],
      ['conntrack-stale', 'warning'],
      ['service-selector-matches-nothing', 'warning'],
      ['netpol-isolates', 'note'],
    ])
    expect(run?.results.map((r) => [r.ruleId, r.ruleIndex, r.level, r.locations[0]?.logicalLocations.map((l) => l.fullyQualifiedName)])).toEqual([
      ['route-nexthop-wrong', 0, 'error', ['node/node-1']],
      ['service-selector-matches-nothing', 2, 'warning', ['service/default/web']],
      ['netpol-isolates', 3, 'note', ['networkpolicy/default/default-deny']],
    ])
  })
})

/** Tags balance and every attribute value is quoted: enough to catch a broken writer. */
function wellFormed(xml: string): boolean {
  const stack: string[] = []
  for (const m of xml.replace(/^<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"<]*")*)\s*(\/?)>/g)) {
    if (m[4]) continue
    if (m[1]) {
      if (stack.pop() !== m[2]) return false
    } else stack.push(m[2] as string)
  }
  return stack.length === 0 && !/&(?!amp;|lt;|gt;|quot;|apos;)/.test(xml)
}
