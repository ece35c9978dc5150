/**
 * The AWS `stack` kind at the SDK boundary, against a small in-memory
 * CloudFormation: teardown saves the stack before deleting it, start recreates it
 * exactly, a deleted stack is still found from the store, protected, NoEcho and
 * oversized stacks are refused, a repeated stop keeps what was saved, statuses
 * read as the docs describe them, throttling is retried and one bad stack fails alone.
 */
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  GetStackPolicyCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import type {
  CreateStackCommandInput,
  DeleteStackCommandInput,
  DescribeStacksCommandInput,
  GetTemplateCommandInput,
  Stack,
  StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Selector } from '../../src/core/glossary.js';
import type { Resource, RestoreData } from '../../src/engine/ports.js';
import { AwsProvider, memoryRestoreData } from '../../src/providers/aws/aws.js';

const cfn = mockClient(CloudFormationClient);
const selector: Selector = {
  provider: 'aws',
  kinds: ['stack'],
  tags: { env: 'dev' },
  settings: { regions: ['eu-west-3'] },
};
const NOW = Date.parse('2026-11-25T18:00:00Z');
const TEMPLATE = 'Description: web tier\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n';
const POLICY =
  '{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}';

function arn(name: string): string {
  return `arn:aws:cloudformation:eu-west-3:123456789012:stack/${name}/0a1b2c3d`;
}

function idOf(name: string): string {
  return `aws:stack:eu-west-3:123456789012:${name}`;
}

function stack(name: string, extra: Partial<Stack> = {}): Stack {
  return {
    StackName: name,
    StackId: arn(name),
    StackStatus: 'CREATE_COMPLETE',
    CreationTime: new Date(0),
    Tags: [{ Key: 'env', Value: 'dev' }],
    Parameters: [{ ParameterKey: 'Size', ParameterValue: 'small' }],
    Capabilities: [],
    ...extra,
  };
}

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

/**
 * CloudFormation as far as the kind sees it: DescribeStacks by name (a
 * ValidationError when there is none) or all of them a page at a time, templates,
 * DeleteStack (gone at once) and CreateStack (CREATE_IN_PROGRESS).
 */
function fakeCloudFormation(initial: Stack[], pageSize = 100) {
  const stacks = new Map(initial.map((s) => [s.StackName ?? '', s]));
  const templates = new Map<string, string>();
  // Copied when sent: the SDK's paginator reuses one input object for every page.
  const describeRequests: DescribeStacksCommandInput[] = [];
  cfn.on(DescribeStacksCommand).callsFake((input: DescribeStacksCommandInput) => {
    describeRequests.push({ ...input });
    if (input.StackName !== undefined) {
      const found = stacks.get(input.StackName);
      if (found === undefined)
        throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
      return { Stacks: [found] };
    }
    const start = Number(input.NextToken ?? '0');
    const all = [...stacks.values()];
    const end = start + pageSize;
    return {
      Stacks: all.slice(start, end),
      ...(end < all.length ? { NextToken: String(end) } : {}),
    };
  });
  cfn.on(GetTemplateCommand).callsFake((input: GetTemplateCommandInput) => ({
    TemplateBody: templates.get(input.StackName ?? '') ?? TEMPLATE,
  }));
  cfn.on(GetStackPolicyCommand).resolves({});
  cfn.on(DeleteStackCommand).callsFake((input: DeleteStackCommandInput) => {
    stacks.delete(input.StackName ?? '');
    return {};
  });
  cfn.on(CreateStackCommand).callsFake((input: CreateStackCommandInput) => {
    const name = input.StackName ?? '';
    if (stacks.has(name))
      throw awsError('AlreadyExistsException', `Stack [${name}] already exists`);
    stacks.set(name, stack(name, { StackStatus: 'CREATE_IN_PROGRESS', Tags: input.Tags ?? [] }));
    return { StackId: arn(name) };
  });
  return { stacks, templates, describeRequests };
}

async function setup(initial: Stack[], restore: RestoreData = memoryRestoreData()) {
  const world = fakeCloudFormation(initial);
  const provider = new AwsProvider({ restore, now: () => NOW });
  const resources = await provider.discover(selector);
  cfn.resetHistory();
  world.describeRequests.length = 0;
  return { ...world, provider, restore, resources };
}

function byName(resources: readonly Resource[], name: string): Resource {
  const found = resources.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
}

/** What a teardown of `web` saves, as in the round trip below. */
const SAVED_WEB = {
  template: TEMPLATE,
  parameters: [
    { ParameterKey: 'Size', ParameterValue: 'small' },
    { ParameterKey: 'Ami', ParameterValue: '/aws/service/ami-amazon-linux-latest/al2023' },
  ],
  tags: [
    { Key: 'env', Value: 'dev' },
    { Key: 'team', Value: 'web' },
  ],
  capabilities: ['CAPABILITY_NAMED_IAM'],
  roleArn: 'arn:aws:iam::123456789012:role/cfn-deployer',
  notificationArns: ['arn:aws:sns:eu-west-3:123456789012:stack-events'],
  timeoutInMinutes: 30,
  disableRollback: false,
  stackPolicy: POLICY,
  description: 'web tier',
  reachedThrough: {},
  savedAt: '2026-11-25T18:00:00.000Z',
};

function web(extra: Partial<Stack> = {}): Stack {
  return stack('web', {
    Description: 'web tier',
    Parameters: [
      { ParameterKey: 'Size', ParameterValue: 'small' },
      {
        ParameterKey: 'Ami',
        ParameterValue: '/aws/service/ami-amazon-linux-latest/al2023',
        ResolvedValue: 'ami-0123456789abcdef0',
      },
    ],
    Tags: [
      { Key: 'env', Value: 'dev' },
      { Key: 'team', Value: 'web' },
    ],
    Capabilities: ['CAPABILITY_NAMED_IAM'],
    RoleARN: 'arn:aws:iam::123456789012:role/cfn-deployer',
    NotificationARNs: ['arn:aws:sns:eu-west-3:123456789012:stack-events'],
    TimeoutInMinutes: 30,
    DisableRollback: false,
    EnableTerminationProtection: false,
    ...extra,
  });
}

beforeEach(() => {
  cfn.reset();
});

describe('CloudFormation stacks', () => {
  it('are discovered by tags across pages, by name, with the account from their ARN; nested and deleted ones are left out', async () => {
    const { describeRequests } = fakeCloudFormation(
      [
        stack('web'),
        stack('other', { Tags: [{ Key: 'env', Value: 'prod' }] }),
        stack('web-NestedQueue-1', { ParentId: arn('web') }),
        stack('gone', { StackStatus: 'DELETE_COMPLETE' }),
        stack('pending', { StackStatus: 'REVIEW_IN_PROGRESS' }),
        stack('db', { StackStatus: 'UPDATE_ROLLBACK_COMPLETE' }),
      ],
      2,
    );
    const found = await new AwsProvider().discover(selector);
    expect(found).toEqual([
      { id: idOf('web'), provider: 'aws', kind: 'stack', name: 'web', tags: { env: 'dev' } },
      { id: idOf('db'), provider: 'aws', kind: 'stack', name: 'db', tags: { env: 'dev' } },
    ]);
    expect(describeRequests).toEqual([{}, { NextToken: '2' }, { NextToken: '4' }]);
  });

  it('teardown saves template, parameters, tags and capabilities before deleting; start recreates the stack from exactly those', async () => {
    const { provider, restore, resources, stacks } = await setup([web()]);
    cfn.on(GetStackPolicyCommand).resolves({ StackPolicyBody: POLICY });
    cfn.on(DeleteStackCommand).callsFake(async (input: DeleteStackCommandInput) => {
      // Saved before the delete, never after.
      expect(await restore.load(idOf('web'), 'stack')).toEqual(SAVED_WEB);
      stacks.delete(input.StackName ?? '');
      return {};
    });
    const [stopped] = await provider.act(resources, 'off');
    expect(stopped).toMatchObject({ id: idOf('web'), result: 'accepted' });
    expect(cfn.commandCalls(GetTemplateCommand)[0]!.args[0].input).toEqual({
      StackName: 'web',
      TemplateStage: 'Original',
    });
    expect(cfn.commandCalls(DeleteStackCommand)[0]!.args[0].input).toEqual({ StackName: 'web' });
    expect(await restore.load(idOf('web'), 'stack')).toEqual(SAVED_WEB);
    expect((await provider.observe(resources)).get(idOf('web'))).toBe('off');

    expect(await provider.act(resources, 'on')).toEqual([{ id: idOf('web'), result: 'accepted' }]);
    expect(cfn.commandCalls(CreateStackCommand)[0]!.args[0].input).toEqual({
      StackName: 'web',
      TemplateBody: TEMPLATE,
      Parameters: SAVED_WEB.parameters,
      Tags: SAVED_WEB.tags,
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      RoleARN: 'arn:aws:iam::123456789012:role/cfn-deployer',
      NotificationARNs: ['arn:aws:sns:eu-west-3:123456789012:stack-events'],
      TimeoutInMinutes: 30,
      DisableRollback: false,
      StackPolicyBody: POLICY,
    });
    expect((await provider.observe(resources)).get(idOf('web'))).toBe('starting');
    stacks.set('web', web({ StackStatus: 'CREATE_COMPLETE' }));
    expect((await provider.observe(resources)).get(idOf('web'))).toBe('on');
    // Recreated: the saved data no longer stands for a torn-down stack.
    expect(await restore.load(idOf('web'), 'stack')).toEqual({
      ...SAVED_WEB,
      recreatedAt: '2026-11-25T18:00:00.000Z',
    });
    // Verified on: forgotten (stacks have no alarm follow-up, so no CloudWatch call).
    expect(
      await provider.settled(resources, 'on', { id: 'run', direction: 'start', at: NOW }),
    ).toEqual([
      {
        id: idOf('web'),
        kind: 'restore.forgotten',
        detail: { stack: { savedAt: '2026-11-25T18:00:00.000Z' } },
      },
    ]);
    expect(await restore.load(idOf('web'), 'stack')).toBeUndefined();
  });

  it('a stack lightsout deleted is still discovered from the store, by its saved tags, and can be started', async () => {
    const restore = memoryRestoreData();
    await restore.save(idOf('web'), 'stack', SAVED_WEB);
    await restore.save(idOf('billing'), 'stack', {
      ...SAVED_WEB,
      tags: [{ Key: 'env', Value: 'prod' }],
    });
    await restore.save(idOf('elsewhere'), 'stack', {
      ...SAVED_WEB,
      reachedThrough: { role: 'arn:aws:iam::999999999999:role/lightsout' },
    });
    await restore.save(idOf('back'), 'stack', { ...SAVED_WEB, recreatedAt: 'yesterday' });
    const { provider, resources } = await setup([], restore);
    expect(resources).toEqual([
      {
        id: idOf('web'),
        provider: 'aws',
        kind: 'stack',
        name: 'web',
        tags: { env: 'dev', team: 'web' },
      },
    ]);
    expect((await provider.act(resources, 'on'))[0]?.result).toBe('accepted');
    expect(cfn.commandCalls(CreateStackCommand)[0]!.args[0].input.StackName).toBe('web');
  });

  it('a stack with termination protection is refused with the reason, and nothing is saved', async () => {
    const { provider, restore, resources } = await setup([
      web({ EnableTerminationProtection: true }),
    ]);
    expect(await provider.act(resources, 'off')).toEqual([
      {
        id: idOf('web'),
        result: 'failed',
        reason:
          'stack web has termination protection; lightsout does not delete protected stacks (turn it off to let lightsout tear the stack down)',
      },
    ]);
    expect(await restore.load(idOf('web'), 'stack')).toBeUndefined();
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('a stack with NoEcho parameters is refused: their masked values could not recreate it', async () => {
    const { provider, restore, resources } = await setup([
      stack('web', {
        Parameters: [
          { ParameterKey: 'Size', ParameterValue: 'small' },
          { ParameterKey: 'DbPassword', ParameterValue: '****' },
        ],
      }),
    ]);
    const [outcome] = await provider.act(resources, 'off');
    expect(outcome).toMatchObject({ result: 'failed' });
    expect(outcome?.reason).toContain('NoEcho parameters (DbPassword)');
    expect(await restore.load(idOf('web'), 'stack')).toBeUndefined();
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('a template larger than CreateStack takes inline is refused', async () => {
    const { provider, restore, resources, templates } = await setup([stack('web')]);
    templates.set('web', `Resources: {}\n${'#'.repeat(51_200)}`);
    const [outcome] = await provider.act(resources, 'off');
    expect(outcome).toMatchObject({ result: 'failed' });
    expect(outcome?.reason).toContain('is 51214 bytes, more than the 51200');
    expect(await restore.load(idOf('web'), 'stack')).toBeUndefined();
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('says which resources outlive the stack or come back empty, and which parameters resolve again', async () => {
    const { provider, resources, templates } = await setup([web()]);
    templates.set(
      'web',
      'Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n  Db:\n    Type: AWS::RDS::DBInstance\n',
    );
    const [outcome] = await provider.act(resources, 'off');
    expect(outcome?.result).toBe('accepted');
    expect(outcome?.output).toBe(
      'resources with DeletionPolicy Retain outlive the stack (and keep costing); recreating it makes new ones, which fails if they have fixed names; ' +
        'resources with DeletionPolicy Snapshot (the default for RDS databases) leave a snapshot; the recreated ones start empty; ' +
        'parameters Ami come from Systems Manager and are resolved again when the stack is recreated',
    );
  });

  it('a stop repeated after a crash between saving and deleting keeps what was saved', async () => {
    const { provider, restore, resources, stacks } = await setup([web()]);
    cfn.on(GetStackPolicyCommand).resolves({ StackPolicyBody: POLICY });
    cfn.on(DeleteStackCommand).rejectsOnce(awsError('ECONNRESET', 'socket hang up'));
    expect((await provider.act(resources, 'off'))[0]?.result).toBe('transient');
    expect(await restore.load(idOf('web'), 'stack')).toEqual(SAVED_WEB);

    // The delete went through after all: the stack is gone when the stop is repeated.
    stacks.delete('web');
    expect(await provider.act(resources, 'off')).toEqual([{ id: idOf('web'), result: 'already' }]);
    expect(await restore.load(idOf('web'), 'stack')).toEqual(SAVED_WEB);
    expect(cfn.commandCalls(GetTemplateCommand)).toHaveLength(1);
  });

  it('start: an existing stack is already on, one still being deleted is retried, one never saved fails', async () => {
    const restore = memoryRestoreData();
    await restore.save(idOf('web'), 'stack', SAVED_WEB);
    await restore.save(idOf('api'), 'stack', SAVED_WEB);
    const { provider, resources } = await setup(
      [stack('web'), stack('api', { StackStatus: 'DELETE_IN_PROGRESS' }), stack('adhoc')],
      restore,
    );
    const outcomes = await provider.act(resources, 'on');
    expect(outcomes).toEqual([
      { id: idOf('web'), result: 'already' },
      { id: idOf('api'), result: 'transient', reason: 'stack api is still being deleted' },
      { id: idOf('adhoc'), result: 'already' },
    ]);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);

    // adhoc, never torn down by lightsout, was deleted by hand.
    fakeCloudFormation([]);
    const [never] = await provider.act([byName(resources, 'adhoc')], 'on');
    expect(never).toMatchObject({ result: 'failed' });
    expect(never?.reason).toContain('nothing saved to recreate stack adhoc');
  });

  it('reads every status as the docs describe it, failures with their reason', async () => {
    const statuses: [StackStatus, unknown][] = [
      ['CREATE_IN_PROGRESS', 'starting'],
      ['CREATE_COMPLETE', 'on'],
      ['UPDATE_COMPLETE', 'on'],
      ['UPDATE_ROLLBACK_COMPLETE', 'on'],
      ['IMPORT_COMPLETE', 'on'],
      ['DELETE_IN_PROGRESS', 'stopping'],
      [
        'CREATE_FAILED',
        { state: 'failed', reason: 'CREATE_FAILED: The following resource(s) failed: [Queue]' },
      ],
      [
        'ROLLBACK_IN_PROGRESS',
        {
          state: 'failed',
          reason: 'ROLLBACK_IN_PROGRESS: The following resource(s) failed: [Queue]',
        },
      ],
      [
        'ROLLBACK_COMPLETE',
        { state: 'failed', reason: 'ROLLBACK_COMPLETE: The following resource(s) failed: [Queue]' },
      ],
      [
        'DELETE_FAILED',
        { state: 'failed', reason: 'DELETE_FAILED: The following resource(s) failed: [Queue]' },
      ],
    ];
    const { provider, resources, stacks, describeRequests } = await setup(
      statuses.map(([status]) => stack(status.toLowerCase().replace(/_/g, '-'))),
    );
    for (const [status] of statuses) {
      const name = status.toLowerCase().replace(/_/g, '-');
      stacks.set(
        name,
        stack(name, {
          StackStatus: status,
          StackStatusReason: 'The following resource(s) failed: [Queue]',
        }),
      );
    }
    const observed = await provider.observe(resources);
    expect(
      statuses.map(([status]) => observed.get(idOf(status.toLowerCase().replace(/_/g, '-')))),
    ).toEqual(statuses.map(([, expected]) => expected));
    // Ten stacks from a one-page listing: one DescribeStacks for all, not one each.
    expect(describeRequests).toEqual([{}]);
  });

  it('a gone stack is off when lightsout deleted it and missing otherwise; one stack is described by name', async () => {
    const { provider, restore, resources, stacks, describeRequests } = await setup([stack('web')]);
    stacks.clear();
    expect((await provider.observe(resources)).get(idOf('web'))).toBe('missing');
    await restore.save(idOf('web'), 'stack', SAVED_WEB);
    expect((await provider.observe(resources)).get(idOf('web'))).toBe('off');
    expect(describeRequests).toEqual([{ StackName: 'web' }, { StackName: 'web' }]);
  });

  it('throttling is transient and retried; the retry recreates the stack', async () => {
    const restore = memoryRestoreData();
    await restore.save(idOf('web'), 'stack', SAVED_WEB);
    const { provider, resources } = await setup([], restore);
    cfn
      .on(CreateStackCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .resolves({ StackId: arn('web') });
    expect(await provider.act(resources, 'on')).toEqual([
      { id: idOf('web'), result: 'transient', reason: 'Throttling: Rate exceeded' },
    ]);
    expect(await provider.act(resources, 'on')).toEqual([{ id: idOf('web'), result: 'accepted' }]);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(2);
  });

  it('a permanent error fails that stack only', async () => {
    const { provider, restore, resources, stacks } = await setup([stack('web'), stack('db')]);
    cfn
      .on(GetTemplateCommand, { StackName: 'db' })
      .rejects(
        awsError(
          'AccessDenied',
          'User is not authorized to perform: cloudformation:GetTemplate',
          403,
        ),
      );
    expect(await provider.act(resources, 'off')).toEqual([
      { id: idOf('web'), result: 'accepted' },
      {
        id: idOf('db'),
        result: 'failed',
        reason: 'AccessDenied: User is not authorized to perform: cloudformation:GetTemplate',
      },
    ]);
    expect([...stacks.keys()]).toEqual(['db']);
    expect(await restore.load(idOf('db'), 'stack')).toBeUndefined();
  });
});
