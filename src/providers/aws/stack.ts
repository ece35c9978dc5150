/**
 * The `stack` kind: CloudFormation stacks torn down (deleted) and recreated.
 *
 * A stop saves what CreateStack needs to build the stack again (its original
 * template, parameters, tags, capabilities, service role, notifications, timeout,
 * rollback settings and stack policy) in the store under `stack`, then deletes it.
 * A start creates it again from what was saved; once the start is verified, what
 * was saved is forgotten. The id holds the stack's name,
 * not its stack id: a recreated stack gets a new stack id. A stack lightsout
 * deleted no longer appears in DescribeStacks ("Deleted stacks don't show up in the
 * DescribeStacks operation if the deletion has been completed successfully",
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html),
 * so discovery also finds it in the store, by the tags saved with it.
 *
 * Refused, with the reason, because the stack could not come back as it was:
 * - termination protection: deleting fails and is meant to
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html);
 * - NoEcho parameters: CloudFormation returns them masked with asterisks
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html);
 * - templates over 51,200 bytes: CreateStack takes no more inline, larger ones need
 *   S3 (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html).
 *
 * Told, not refused: resources with DeletionPolicy Retain or Snapshot, and RDS
 * databases (whose default policy is Snapshot), outlive the stack or leave a
 * snapshot, and the recreated ones start empty
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html);
 * Systems Manager parameter types are resolved again when recreated, so their value
 * may have changed (ResolvedValue,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Parameter.html).
 *
 * Nested stacks (ParentId set) go with their root stack and are not taken alone.
 * Statuses: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes
 *
 * No `tagLastAction`: a stack's tags change only through UpdateStack, which would
 * start an update of every resource in it.
 */
import {
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  GetStackPolicyCommand,
  GetTemplateCommand,
  paginateDescribeStacks,
} from '@aws-sdk/client-cloudformation';
import type {
  Capability,
  CloudFormationClient,
  RollbackConfiguration,
  Stack,
} from '@aws-sdk/client-cloudformation';
import type { PowerState } from '../../core/glossary.js';
import type {
  ActOutcome,
  Observation,
  Observed,
  Resource,
  RestoreData,
  SettledNote,
} from '../../engine/ports.js';
import { connectionKey } from './clients.js';
import type { Connection } from './clients.js';
import type { AwsKind, DiscoveryScope, KindContext } from './kind.js';
import { awsId, eachResource, hasTags, nameOf, regionOf, tagRecord } from './kind.js';

/** The key of a stack's saved definition in the store's restore data. */
export const RESTORE_KEY = 'stack';
/** The largest TemplateBody CreateStack takes, in bytes. */
export const TEMPLATE_BODY_LIMIT = 51_200;

/** What a teardown keeps to recreate a stack with CreateStack. */
export interface SavedStack {
  /** The template as submitted (TemplateStage Original), before any transform. */
  readonly template: string;
  readonly parameters: readonly { ParameterKey: string; ParameterValue: string }[];
  readonly tags: readonly { Key: string; Value: string }[];
  readonly capabilities: readonly Capability[];
  readonly roleArn?: string;
  readonly notificationArns?: readonly string[];
  readonly timeoutInMinutes?: number;
  readonly disableRollback?: boolean;
  readonly rollbackConfiguration?: RollbackConfiguration;
  readonly retainExceptOnCreate?: boolean;
  readonly stackPolicy?: string;
  /** For people reading the store; CreateStack takes the description from the template. */
  readonly description?: string;
  /** The role and endpoint it was reached through: only those find it again in the store. */
  readonly reachedThrough: { readonly role?: string; readonly endpoint?: string };
  readonly savedAt: string;
  /** Set once a start recreated it: the saved data no longer stands for a torn-down stack. */
  readonly recreatedAt?: string;
}

export function stackId(region: string, account: string, name: string): string {
  return awsId('stack', region, account, name);
}

/**
 * Keeps, per connection, how many DescribeStacks pages a listing of the region
 * took, so observation picks the fewer calls: one DescribeStacks per stack, or
 * one listing of all.
 */
export class StackKind implements AwsKind {
  readonly kind = 'stack';
  private readonly listingPages = new Map<string, number>();

  async discover(context: KindContext, scope: DiscoveryScope): Promise<Resource[]> {
    const client = await context.clients.get('cloudformation', scope.connection);
    const { stacks, pages } = await listStacks(client);
    this.listingPages.set(connectionKey(scope.connection), pages);
    const region = scope.connection.region;
    const live = [...stacks.values()]
      .filter((s) => isOwnStack(s) && hasTags(tagRecord(s.Tags), scope.tags))
      .map((s) => resourceOf(stackId(region, accountOfArn(s.StackId), s.StackName ?? ''), s.Tags));
    const liveIds = new Set(live.map((r) => r.id));
    const tornDown = (await savedStacks(context.restore, region))
      .filter(
        ({ id, saved }) =>
          !liveIds.has(id) &&
          saved.recreatedAt === undefined &&
          sameConnection(saved, scope.connection) &&
          hasTags(tagRecord(saved.tags), scope.tags),
      )
      .map(({ id, saved }) => resourceOf(id, saved.tags));
    return [...live, ...tornDown];
  }

  async observe(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
  ): Promise<Map<string, Observation>> {
    const client = await context.clients.get('cloudformation', connection);
    const pages = this.listingPages.get(connectionKey(connection)) ?? 1;
    const current =
      resources.length > pages
        ? (await listStacks(client)).stacks
        : await describeEach(client, resources.map(nameOf));
    const states = new Map<string, Observation>();
    for (const resource of resources) {
      const stack = current.get(nameOf(resource));
      states.set(
        resource.id,
        stack === undefined
          ? await goneObservation(context.restore, resource)
          : observationOf(stack),
      );
    }
    return states;
  }

  /**
   * A stack verified on again (recreated, or found existing) needs its saved
   * definition no more: the stack itself is what the next teardown saves.
   */
  async forgetRestore(
    context: KindContext,
    _connection: Connection,
    resources: readonly Resource[],
  ): Promise<SettledNote[]> {
    const notes: SettledNote[] = [];
    for (const resource of resources) {
      const saved = await loadSaved(context.restore, resource.id);
      if (saved !== undefined)
        notes.push({
          id: resource.id,
          kind: 'restore.forgotten',
          detail: { stack: { savedAt: saved.savedAt } },
        });
    }
    await context.restore.saveMany(
      notes.map((n) => ({ id: n.id, key: RESTORE_KEY, data: undefined })),
    );
    return notes;
  }

  async act(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    target: PowerState,
  ): Promise<ActOutcome[]> {
    const client = await context.clients.get('cloudformation', connection);
    return eachResource(resources, (resource) =>
      target === 'off'
        ? tearDown(client, resource, context, connection)
        : recreate(client, resource, context),
    );
  }
}

function resourceOf(
  id: string,
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Resource {
  const name = id.split(':').slice(4).join(':');
  return { id, provider: 'aws', kind: 'stack', name, tags: tagRecord(tags) };
}

/** arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID */
function accountOfArn(arn: string | undefined): string {
  return arn?.split(':')[4] ?? 'unknown';
}

/** A root stack with a template: made by CreateChangeSet and not executed yet, it has none. */
function isOwnStack(stack: Stack): boolean {
  return stack.ParentId === undefined && stack.StackStatus !== 'REVIEW_IN_PROGRESS';
}

/** A deleted stack reads as no stack, however it was found. */
function present(stack: Stack | undefined): Stack | undefined {
  return stack?.StackStatus === 'DELETE_COMPLETE' ? undefined : stack;
}

function sameConnection(saved: SavedStack, connection: Connection): boolean {
  return (
    saved.reachedThrough.role === connection.role &&
    saved.reachedThrough.endpoint === connection.endpoint
  );
}

/** Every stack of the region by name, listed with DescribeStacks without a name. */
async function listStacks(
  client: CloudFormationClient,
): Promise<{ stacks: Map<string, Stack>; pages: number }> {
  const stacks = new Map<string, Stack>();
  let pages = 0;
  // DescribeStacks takes no page size (only StackName and NextToken), so the server's is used
  // (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
  for await (const page of paginateDescribeStacks({ client }, {})) {
    pages += 1;
    for (const stack of page.Stacks ?? [])
      if (present(stack) !== undefined) stacks.set(stack.StackName ?? '', stack);
  }
  return { stacks, pages };
}

async function describeEach(
  client: CloudFormationClient,
  names: readonly string[],
): Promise<Map<string, Stack>> {
  const stacks = new Map<string, Stack>();
  for (const name of names) {
    const stack = await describeStack(client, name);
    if (stack !== undefined) stacks.set(name, stack);
  }
  return stacks;
}

/** The stack by name, or undefined when it does not exist (or only as deleted). */
async function describeStack(
  client: CloudFormationClient,
  name: string,
): Promise<Stack | undefined> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: name }));
    return present(Stacks?.[0]);
  } catch (error) {
    // "If the stack doesn't exist, a ValidationError is returned" (API_DescribeStacks).
    if (isMissingStack(error)) return undefined;
    throw error;
  }
}

function isMissingStack(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  return name === 'ValidationError' && /does not exist/.test(message ?? '');
}

async function savedStacks(
  restore: RestoreData,
  region: string,
): Promise<{ id: string; saved: SavedStack }[]> {
  const found = await restore.find(`aws:stack:${region}:`, RESTORE_KEY);
  return found.flatMap(({ id, data }) => (isSavedStack(data) ? [{ id, saved: data }] : []));
}

async function loadSaved(restore: RestoreData, id: string): Promise<SavedStack | undefined> {
  const data = await restore.load(id, RESTORE_KEY);
  return isSavedStack(data) ? data : undefined;
}

function isSavedStack(data: unknown): data is SavedStack {
  const saved = data as Partial<SavedStack> | undefined;
  return (
    typeof saved?.template === 'string' &&
    Array.isArray(saved.parameters) &&
    Array.isArray(saved.tags) &&
    Array.isArray(saved.capabilities) &&
    typeof saved.reachedThrough === 'object'
  );
}

/**
 * How each status reads (the User Guide's status codes). Updates and imports are
 * not lightsout's: their stacks have their resources, so they read `on`.
 */
const OBSERVED: Readonly<Record<string, Observed | 'failed'>> = {
  CREATE_IN_PROGRESS: 'starting',
  CREATE_COMPLETE: 'on',
  CREATE_FAILED: 'failed',
  // A failed create rolling back: the start has failed already.
  ROLLBACK_IN_PROGRESS: 'failed',
  ROLLBACK_FAILED: 'failed',
  ROLLBACK_COMPLETE: 'failed',
  DELETE_IN_PROGRESS: 'stopping',
  DELETE_FAILED: 'failed',
  // Read as gone before this table (see `present`); listed for completeness.
  DELETE_COMPLETE: 'off',
  UPDATE_IN_PROGRESS: 'on',
  UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: 'on',
  UPDATE_COMPLETE: 'on',
  UPDATE_FAILED: 'on',
  UPDATE_ROLLBACK_IN_PROGRESS: 'on',
  UPDATE_ROLLBACK_FAILED: 'on',
  UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: 'on',
  UPDATE_ROLLBACK_COMPLETE: 'on',
  IMPORT_IN_PROGRESS: 'on',
  IMPORT_COMPLETE: 'on',
  IMPORT_ROLLBACK_IN_PROGRESS: 'on',
  IMPORT_ROLLBACK_FAILED: 'on',
  IMPORT_ROLLBACK_COMPLETE: 'on',
  REVIEW_IN_PROGRESS: 'missing',
};

function observationOf(stack: Stack): Observation {
  const status = stack.StackStatus ?? 'unknown';
  const observed = OBSERVED[status] ?? 'missing';
  return observed === 'failed'
    ? { state: 'failed', reason: `${status}: ${stack.StackStatusReason ?? 'no reason given'}` }
    : observed;
}

/** Off when lightsout tore it down (and has not recreated it since); missing otherwise. */
async function goneObservation(restore: RestoreData, resource: Resource): Promise<Observation> {
  const saved = await loadSaved(restore, resource.id);
  return saved !== undefined && saved.recreatedAt === undefined ? 'off' : 'missing';
}

async function tearDown(
  client: CloudFormationClient,
  resource: Resource,
  context: KindContext,
  connection: Connection,
): Promise<ActOutcome> {
  const name = nameOf(resource);
  const stack = await describeStack(client, name);
  // Gone or going: what was saved before stays (a repeated stop never saves nothing over it).
  if (stack === undefined || stack.StackStatus === 'DELETE_IN_PROGRESS')
    return { id: resource.id, result: 'already' };
  const refusal = refusalOf(stack);
  if (refusal !== undefined) return { id: resource.id, ...refusal };
  const { TemplateBody } = await client.send(
    new GetTemplateCommand({ StackName: name, TemplateStage: 'Original' }),
  );
  const template = TemplateBody ?? '';
  const size = Buffer.byteLength(template, 'utf8');
  if (size > TEMPLATE_BODY_LIMIT)
    return {
      id: resource.id,
      result: 'failed',
      reason: `the template of stack ${name} is ${size} bytes, more than the ${TEMPLATE_BODY_LIMIT} CreateStack takes inline (larger ones need S3, which lightsout does not use); left running`,
    };
  const { StackPolicyBody } = await client.send(new GetStackPolicyCommand({ StackName: name }));
  const saved = savedOf(stack, template, StackPolicyBody, connection, context.now());
  await context.restore.save(resource.id, RESTORE_KEY, saved);
  await client.send(new DeleteStackCommand({ StackName: name }));
  const notes = notesOn(stack, template);
  return notes.length === 0
    ? { id: resource.id, result: 'accepted' }
    : { id: resource.id, result: 'accepted', output: notes.join('; ') };
}

/** Why a stack cannot be torn down now, before anything is fetched or saved. */
function refusalOf(stack: Stack): Pick<ActOutcome, 'result' | 'reason'> | undefined {
  const name = stack.StackName ?? '';
  const status = stack.StackStatus ?? 'unknown';
  if (stack.EnableTerminationProtection === true)
    return {
      result: 'failed',
      reason: `stack ${name} has termination protection; lightsout does not delete protected stacks (turn it off to let lightsout tear the stack down)`,
    };
  const masked = (stack.Parameters ?? [])
    .filter((p) => /^\*+$/.test(p.ParameterValue ?? ''))
    .map((p) => p.ParameterKey ?? '');
  if (masked.length > 0)
    return {
      result: 'failed',
      reason: `stack ${name} has NoEcho parameters (${masked.join(', ')}) whose values CloudFormation never returns, so it could not be recreated as it was; pass secrets as dynamic references ({{resolve:secretsmanager:...}}) instead`,
    };
  if (status === 'REVIEW_IN_PROGRESS')
    return {
      result: 'failed',
      reason: `stack ${name} has a change set not executed yet; nothing to tear down`,
    };
  if (status.endsWith('_IN_PROGRESS'))
    return { result: 'transient', reason: `stack ${name} is busy (${status})` };
  return undefined;
}

function savedOf(
  stack: Stack,
  template: string,
  stackPolicy: string | undefined,
  connection: Connection,
  now: number,
): SavedStack {
  return withoutUndefined({
    template,
    // ParameterValue only: ResolvedValue is read-only, and an SSM parameter's name is its value.
    parameters: (stack.Parameters ?? []).map((p) => ({
      ParameterKey: p.ParameterKey ?? '',
      ParameterValue: p.ParameterValue ?? '',
    })),
    tags: (stack.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    capabilities: stack.Capabilities ?? [],
    roleArn: stack.RoleARN,
    notificationArns: stack.NotificationARNs?.length ? stack.NotificationARNs : undefined,
    timeoutInMinutes: stack.TimeoutInMinutes,
    disableRollback: stack.DisableRollback,
    rollbackConfiguration: stack.RollbackConfiguration?.RollbackTriggers?.length
      ? stack.RollbackConfiguration
      : undefined,
    retainExceptOnCreate: stack.RetainExceptOnCreate,
    stackPolicy,
    description: stack.Description,
    reachedThrough: withoutUndefined({ role: connection.role, endpoint: connection.endpoint }),
    savedAt: new Date(now).toISOString(),
  });
}

/** T with its possibly-undefined properties made optional instead. */
type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** The store keeps JSON, and exactOptionalPropertyTypes wants absent keys: never `undefined`. */
function withoutUndefined<T extends object>(value: T): Compact<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Compact<T>;
}

/** What a teardown leaves behind or changes, said in the outcome. */
function notesOn(stack: Stack, template: string): string[] {
  const notes: string[] = [];
  const policies = new Set(
    [
      ...template.matchAll(
        /DeletionPolicy["']?\s*:\s*["']?(Retain|RetainExceptOnCreate|Snapshot)/g,
      ),
    ].map((m) => m[1] ?? ''),
  );
  if (policies.has('Retain') || policies.has('RetainExceptOnCreate'))
    notes.push(
      'resources with DeletionPolicy Retain outlive the stack (and keep costing); recreating it makes new ones, which fails if they have fixed names',
    );
  if (policies.has('Snapshot') || /AWS::RDS::DB(Instance|Cluster)\b/.test(template))
    notes.push(
      'resources with DeletionPolicy Snapshot (the default for RDS databases) leave a snapshot; the recreated ones start empty',
    );
  const resolved = (stack.Parameters ?? [])
    .filter((p) => p.ResolvedValue !== undefined)
    .map((p) => p.ParameterKey ?? '');
  if (resolved.length > 0)
    notes.push(
      `parameters ${resolved.join(', ')} come from Systems Manager and are resolved again when the stack is recreated`,
    );
  return notes;
}

async function recreate(
  client: CloudFormationClient,
  resource: Resource,
  context: KindContext,
): Promise<ActOutcome> {
  const name = nameOf(resource);
  const saved = await loadSaved(context.restore, resource.id);
  const stack = await describeStack(client, name);
  if (stack !== undefined) return existing(stack, resource, saved, context);
  if (saved === undefined)
    return {
      id: resource.id,
      result: 'failed',
      reason: `nothing saved to recreate stack ${name} in ${regionOf(resource)}: lightsout did not tear it down, or its store was lost`,
    };
  try {
    await client.send(new CreateStackCommand(createInput(name, saved)));
  } catch (error) {
    // A repeated start whose first CreateStack went through.
    if ((error as { name?: string }).name !== 'AlreadyExistsException') throw error;
  }
  await markRecreated(context, resource.id, saved);
  return { id: resource.id, result: 'accepted' };
}

async function existing(
  stack: Stack,
  resource: Resource,
  saved: SavedStack | undefined,
  context: KindContext,
): Promise<ActOutcome> {
  const status = stack.StackStatus ?? 'unknown';
  if (status === 'DELETE_IN_PROGRESS')
    return {
      id: resource.id,
      result: 'transient',
      reason: `stack ${resource.name} is still being deleted`,
    };
  if (status === 'DELETE_FAILED')
    return {
      id: resource.id,
      result: 'failed',
      reason: `stack ${resource.name} failed to delete (${stack.StackStatusReason ?? 'no reason given'}); delete it or fix it by hand before lightsout can recreate it`,
    };
  if (saved !== undefined) await markRecreated(context, resource.id, saved);
  return { id: resource.id, result: 'already' };
}

async function markRecreated(context: KindContext, id: string, saved: SavedStack): Promise<void> {
  if (saved.recreatedAt !== undefined) return;
  await context.restore.save(id, RESTORE_KEY, {
    ...saved,
    recreatedAt: new Date(context.now()).toISOString(),
  });
}

function createInput(name: string, saved: SavedStack) {
  return withoutUndefined({
    StackName: name,
    TemplateBody: saved.template,
    Parameters: [...saved.parameters],
    Tags: [...saved.tags],
    Capabilities: [...saved.capabilities],
    RoleARN: saved.roleArn,
    NotificationARNs: saved.notificationArns && [...saved.notificationArns],
    TimeoutInMinutes: saved.timeoutInMinutes,
    DisableRollback: saved.disableRollback,
    RollbackConfiguration: saved.rollbackConfiguration,
    RetainExceptOnCreate: saved.retainExceptOnCreate,
    StackPolicyBody: saved.stackPolicy,
  });
}
