import type { Kysely } from 'kysely';

/**
 * Sizes, so savings can price what stopped: `resources.size` holds what discovery
 * read of a resource's size (instance type or class, count, Fargate task size) as
 * JSON; `sandbox_resources.type` the instance type a sandbox resource stands for
 * (the config's `sandbox.resources[].type`). Both nullable: unknown stays unknown.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('resources').addColumn('size', 'text').execute();
  await db.schema.alterTable('sandbox_resources').addColumn('type', 'text').execute();
}
