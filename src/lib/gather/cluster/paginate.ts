/**
 * Lists in pages: a 150,000-pod cluster must never arrive as one response (it would cost the API
 * server and knet gigabytes). A 410 Expired on a continue token means the server compacted the
 * snapshot the list was reading; the only consistent answer is to start again, once.
 */
import type {ClusterSource, ListResource} from './client.js'
import {httpStatusOf} from './api-errors.js'

export const DEFAULT_PAGE_SIZE = 500

export interface ListAllOptions {
  pageSize?: number
  onPage?: (resource: ListResource, itemsSoFar: number, remaining: number | undefined) => void
  /** Applied to each item as it arrives (e.g. to drop managedFields before pages pile up). */
  mapItem?: (item: unknown) => unknown
}

export async function listAll(source: ClusterSource, resource: ListResource, options: ListAllOptions = {}): Promise<unknown[]> {
  const limit = options.pageSize ?? DEFAULT_PAGE_SIZE
  for (let attempt = 0; ; attempt++) {
    const items: unknown[] = []
    let token: string | undefined
    try {
      do {
        const page = await source.listPage(resource, {limit, continue: token})
        for (const item of page.items) items.push(options.mapItem ? options.mapItem(item) : item)
        options.onPage?.(resource, items.length, page.remainingItemCount)
        token = page.continue
      } while (token)
      return items
    } catch (error) {
      // Only an expired continue token is worth a restart; a 410 on the first page would repeat.
      if (attempt === 0 && token !== undefined && httpStatusOf(error) === 410) continue
      throw error
    }
  }
}
