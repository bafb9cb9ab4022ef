/**
 * Model items built while the snapshot is read: the reader hands over each pod, Service and
 * EndpointSlice as soon as it has parsed it, and only its model item is kept. The raw objects of
 * a 5,000-node snapshot take ~1.6× the file when parsed at once; taken one at a time, each is
 * garbage a moment after it is parsed.
 */
import type {ObjectList, ObjectTaker} from '../../snapshot/read.js'
import {endpointSliceOf, type EndpointSliceModel} from './endpointslices.js'
import {podOf, type PodModel} from './pods.js'
import {byKey, type ModelProblem} from './read.js'
import {serviceOf, type ServiceModel} from './services.js'

interface Taken<T> {
  items: T[]
  problems: ModelProblem[]
}

export interface TakenObjects {
  pods: Taken<PodModel>
  services: Taken<ServiceModel>
  endpointSlices: Taken<EndpointSliceModel>
}

export interface ModelTaker extends ObjectTaker {
  /** What was taken, each list sorted as buildEach sorts it; undefined when no reader used this taker (a live gather). */
  taken(): TakenObjects | undefined
}

export function modelTaker(): ModelTaker {
  const fresh = (): TakenObjects => ({pods: {items: [], problems: []}, services: {items: [], problems: []}, endpointSlices: {items: [], problems: []}})
  let taken: TakenObjects | undefined
  const add = <T>(list: Taken<T>, item: T | undefined) => {
    if (item) list.items.push(item)
  }
  return {
    lists: ['pods', 'services', 'endpointSlices'] satisfies ObjectList[],
    start() {
      taken = fresh()
    },
    take(list, object, index) {
      if (!taken) throw new Error('modelTaker: take() before start()')
      if (list === 'pods') add(taken.pods, podOf(object, index, taken.pods.problems))
      else if (list === 'services') add(taken.services, serviceOf(object, index, taken.services.problems))
      else add(taken.endpointSlices, endpointSliceOf(object, index, taken.endpointSlices.problems))
    },
    taken() {
      if (taken) for (const list of [taken.pods, taken.services, taken.endpointSlices]) list.items.sort(byKey)
      return taken
    },
  }
}
