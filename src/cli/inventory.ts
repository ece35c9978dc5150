/** The store's inventory for commands that read it without running lightsout (`plan`). */
import { DatabaseUrlError, StoreNotFoundError } from '../store/db.js';
import type { StoredResource } from '../store/queries/resources.js';
import { openStore } from '../store/store.js';
import { absoluteDatabaseUrl } from './invocation.js';
import { UsageError } from './io.js';

/** The inventory of the store at `db` by environment; none when there is no store yet. */
export async function storedInventory(
  db: string,
): Promise<Map<string, StoredResource[]> | undefined> {
  let url: string;
  try {
    url = absoluteDatabaseUrl(db);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const store = await openStore(url, { create: false });
    try {
      const byEnvironment = new Map<string, StoredResource[]>();
      for (const r of await store.listResources()) {
        if (r.environment === null) continue;
        const list = byEnvironment.get(r.environment) ?? [];
        list.push(r);
        byEnvironment.set(r.environment, list);
      }
      return byEnvironment;
    } finally {
      await store.close();
    }
  } catch (error) {
    if (error instanceof StoreNotFoundError) return undefined;
    throw error;
  }
}
