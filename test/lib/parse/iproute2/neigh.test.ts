import {describe, expect, it} from 'vitest'
import {parseNeighbours} from '../../../../src/lib/parse/iproute2/neigh.js'
import {fuzzJsonParser} from './json-fuzz.js'
import {samplesFor} from './fixtures.js'

describe('parseNeighbours', () => {
  it('reads state lists and null-valued flags (router, proxy)', () => {
    const text =
      '[{"dst":"10.100.0.3","dev":"eth0","state":["INCOMPLETE"]},{"dst":"10.244.2.0","dev":"flannel.1","lladdr":"aa:bb:cc:dd:ee:01","state":["PERMANENT"]},{"dst":"fd00::1","dev":"eth0","lladdr":"02:00:00:00:00:01","router":null,"state":["REACHABLE"]},{"dst":"10.100.0.50","dev":"eth0","proxy":null}]'
    expect(parseNeighbours(text)).toEqual({
      value: [
        {dst: '10.100.0.3', family: 4, dev: 'eth0', state: ['INCOMPLETE'], router: false, proxy: false, externLearn: false},
        {dst: '10.244.2.0', family: 4, dev: 'flannel.1', lladdr: 'aa:bb:cc:dd:ee:01', state: ['PERMANENT'], router: false, proxy: false, externLearn: false},
        {dst: 'fd00::1', family: 6, dev: 'eth0', lladdr: '02:00:00:00:00:01', state: ['REACHABLE'], router: true, proxy: false, externLearn: false},
        {dst: '10.100.0.50', family: 4, dev: 'eth0', state: [], router: false, proxy: true, externLearn: false},
      ],
      problems: [],
    })
  })

  it('reports entries without a readable dst', () => {
    const {value, problems} = parseNeighbours('[{"dev":"eth0"},{"dst":"x"},{"dst":"10.0.0.1","state":"PERMANENT"}]')
    expect(value).toEqual([{dst: '10.0.0.1', family: 4, state: [], router: false, proxy: false, externLearn: false}])
    expect(problems.map((p) => p.message)).toEqual(['ip neigh[0]: missing or unreadable dst', 'ip neigh[1]: missing or unreadable dst', 'ip neigh[2]: field "state" should be an array of strings, got string'])
  })

  it('never throws (fuzz)', () => fuzzJsonParser([...samplesFor('neigh'), ...samplesFor('neighProxy')], parseNeighbours))
})
