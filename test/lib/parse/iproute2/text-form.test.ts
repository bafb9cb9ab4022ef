/**
 * describeRoute/describeRule are what findings quote as evidence, so they must read exactly like
 * `ip route` / `ip rule` text. Root only: compares with the real text output of a rich namespace.
 */
import {afterAll, beforeAll, expect, it} from 'vitest'
import {buildRoutingLab, type FlannelNodeLab} from '../../../fixtures/iproute2/build.js'
import {describeNetns, TestNetns} from '../../../helpers/netns.js'
import {describeRoute, parseRoutes} from '../../../../src/lib/parse/iproute2/routes.js'
import {describeRule, parseRules} from '../../../../src/lib/parse/iproute2/rules.js'

/** Text output with multipath continuation lines joined and whitespace collapsed. */
function textLines(text: string): string[] {
  return text
    .replace(/\n\s+nexthop/g, ' nexthop')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter(Boolean)
}

describeNetns('describeRoute/describeRule match iproute2 text output', () => {
  let lab: FlannelNodeLab | undefined
  beforeAll(() => {
    lab = buildRoutingLab(TestNetns.create, 'txt')
  })
  afterAll(() => lab?.destroy())

  for (const family of [4, 6] as const) {
    it(`IPv${family} routes of all tables`, () => {
      const node = lab?.node as TestNetns
      const text = textLines(node.run(['ip', `-${family}`, 'route', 'show', 'table', 'all']))
      const parsed = parseRoutes(node.run(['ip', `-${family}`, '-j', 'route', 'show', 'table', 'all']), family)
      expect(parsed.problems).toEqual([])
      expect(parsed.value.map(describeRoute)).toEqual(text)
    })

    it(`IPv${family} rules`, () => {
      const node = lab?.node as TestNetns
      const text = textLines(node.run(['ip', `-${family}`, 'rule', 'show']))
      const parsed = parseRules(node.run(['ip', `-${family}`, '-j', 'rule', 'show']), family)
      expect(parsed.problems).toEqual([])
      expect(parsed.value.map(describeRule)).toEqual(text)
    })
  }
})
