/**
 * What an Auto Scaling group's stop saves lives only while the group is off: a
 * verified start forgets it (store and tags), and while off the group's
 * ScheduledActions process is suspended, then resumed exactly. Against the AWS
 * double (aws-sdk-client-mock underneath), with the store's restore data on each
 * test database.
 */
import {
  AutoScalingClient,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterEach, describe, expect, it } from 'vitest';
import type { PowerState, Selector } from '../../src/core/glossary.js';
import type { RestoreData } from '../../src/engine/ports.js';
import { AwsProvider, memoryRestoreData } from '../../src/providers/aws/aws.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';
import { AwsDouble, awsError, connectionReset } from '../support/aws-double.js';

const selector: Selector = {
  provider: 'aws',
  kinds: ['asg'],
  tags: { env: 'dev' },
  settings: { regions: ['eu-west-3'] },
};
const ID = 'aws:asg:eu-west-3:123456789012:workers';

describe.each(DATABASES)('Auto Scaling restore data on $name', (database) => {
  let store: Store | undefined;
  let double: AwsDouble | undefined;
  afterEach(async () => {
    double?.restore();
    double = undefined;
    await store?.close();
    store = undefined;
  });

  async function setup(group: { min: number; max: number; desired: number; suspended?: string[] }) {
    store = await database.open();
    const world = (double = new AwsDouble());
    world.addGroup({ name: 'workers', tags: { env: 'dev' }, ...group });
    world.install();
    const restore = store.restoreData(() => 0);
    return { world, restore, ...(await connect(restore)) };
  }

  /** A provider as a (re)started process builds it, on `restore`. */
  async function connect(restore: RestoreData) {
    const provider = new AwsProvider({ restore });
    const resources = await provider.discover(selector);
    /** Acts, then verifies and follows up as the engine does. */
    const move = async (target: PowerState) => {
      const [outcome] = await provider.act(resources, target);
      for (let i = 0; i < 5 && (await provider.observe(resources)).get(ID) !== target; i++);
      expect((await provider.observe(resources)).get(ID)).toBe(target);
      const notes = await provider.settled(resources, target, {
        id: 'run',
        direction: target === 'on' ? 'start' : 'stop',
        at: 0,
      });
      return { outcome, notes };
    };
    return { provider, resources, move };
  }

  /** A person resizes the group (aws autoscaling update-auto-scaling-group). */
  const resizeByHand = (min: number, max: number, desired: number) =>
    new AutoScalingClient({ region: 'eu-west-3' }).send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'workers',
        MinSize: min,
        MaxSize: max,
        DesiredCapacity: desired,
      }),
    );

  it('restored to 1/3/2 and resized by hand to 2/6/4 during the day, the next start answers already and the next stop saves 2/6/4', async () => {
    const { world, restore, move } = await setup({ min: 1, max: 3, desired: 2 });
    expect((await move('off')).outcome).toEqual({ id: ID, result: 'accepted' });
    // While off, what the start needs is kept, also once the stop is verified.
    expect(await restore.load(ID, 'capacity')).toEqual({ min: 1, max: 3, desired: 2 });
    expect(world.group('workers').tags.get('lightsout:capacity')?.value).toBe('1,3,2');

    const started = await move('on');
    expect(started.outcome).toEqual({ id: ID, result: 'accepted' });
    expect(world.capacity('workers')).toBe('1/3/2');
    expect(started.notes).toEqual([
      { id: ID, kind: 'restore.forgotten', detail: { capacity: { min: 1, max: 3, desired: 2 } } },
    ]);
    expect(await restore.load(ID, 'capacity')).toBeUndefined();
    expect(await restore.load(ID, 'suspendedProcesses')).toBeUndefined();
    expect([...world.group('workers').tags.keys()]).toEqual(['env']);

    await resizeByHand(2, 6, 4);
    // e.g. a reservation's start, or a second replica's pass: the group is on.
    expect((await move('on')).outcome).toEqual({ id: ID, result: 'already' });
    expect(world.capacity('workers')).toBe('2/6/4');

    await move('off');
    expect(await restore.load(ID, 'capacity')).toEqual({ min: 2, max: 6, desired: 4 });
    expect(world.group('workers').tags.get('lightsout:capacity')?.value).toBe('2,6,4');
    await move('on');
    expect(world.capacity('workers')).toBe('2/6/4');
  });

  it('while off, a scheduled action cannot bring the group back; a start resumes exactly ScheduledActions', async () => {
    // A person suspended AZRebalance; lightsout leaves it as it is.
    const { world, restore, move } = await setup({
      min: 1,
      max: 3,
      desired: 2,
      suspended: ['AZRebalance'],
    });
    await move('off');
    expect(world.inputs('SuspendProcesses')).toEqual([
      { AutoScalingGroupName: 'workers', ScalingProcesses: ['ScheduledActions'] },
    ]);
    expect(await restore.load(ID, 'suspendedProcesses')).toEqual(['ScheduledActions']);
    expect(world.group('workers').tags.get('lightsout:suspended')?.value).toBe('ScheduledActions');
    // Suspended before the capacity went to 0: nothing could act in between.
    expect(world.changes().map((c) => c.split(' ')[0])).toEqual([
      'CreateOrUpdateTags',
      'SuspendProcesses',
      'UpdateAutoScalingGroup',
    ]);

    expect(world.runScheduledAction('workers', { min: 2, max: 6, desired: 4 })).toBe(false);
    expect(world.capacity('workers')).toBe('0/0/0');

    await move('on');
    expect(world.inputs('ResumeProcesses')).toEqual([
      { AutoScalingGroupName: 'workers', ScalingProcesses: ['ScheduledActions'] },
    ]);
    expect([...world.group('workers').suspended]).toEqual(['AZRebalance']);
    expect(world.runScheduledAction('workers', { min: 2, max: 6, desired: 4 })).toBe(true);
  });

  it('a ScheduledActions suspension a person set is neither saved as ours nor resumed', async () => {
    const { world, restore, move } = await setup({
      min: 1,
      max: 3,
      desired: 2,
      suspended: ['ScheduledActions'],
    });
    await move('off');
    expect(world.calls('SuspendProcesses')).toBe(0);
    expect(await restore.load(ID, 'suspendedProcesses')).toEqual([]);
    expect(world.group('workers').tags.has('lightsout:suspended')).toBe(false);
    await move('on');
    expect(world.calls('ResumeProcesses')).toBe(0);
    expect([...world.group('workers').suspended]).toEqual(['ScheduledActions']);
  });

  it('with the store lost, the tags bring the group back, resume what lightsout suspended, and are then deleted', async () => {
    const { world, move } = await setup({ min: 1, max: 3, desired: 2 });
    await move('off');
    const afresh = await connect(memoryRestoreData());
    const started = await afresh.move('on');
    expect(started.outcome).toEqual({ id: ID, result: 'accepted' });
    expect(world.capacity('workers')).toBe('1/3/2');
    expect(world.group('workers').suspended.size).toBe(0);
    expect(started.notes).toMatchObject([{ kind: 'restore.forgotten' }]);
    expect([...world.group('workers').tags.keys()]).toEqual(['env']);
  });

  it('a group started by hand while off answers already, says so, keeps its capacity, and gets its scheduled actions back', async () => {
    const { world, restore, move } = await setup({ min: 1, max: 3, desired: 2 });
    await move('off');
    await resizeByHand(2, 6, 4);
    world.clearCalls();
    const started = await move('on');
    expect(started.outcome).toEqual({
      id: ID,
      result: 'already',
      output:
        'workers is on already at 2/6/4 min/max/desired (lightsout had saved 1/3/2); left as it is; resumed ScheduledActions',
    });
    expect(world.calls('UpdateAutoScalingGroup')).toBe(0);
    expect(world.capacity('workers')).toBe('2/6/4');
    expect(world.group('workers').suspended.size).toBe(0);
    expect(await restore.load(ID, 'capacity')).toBeUndefined();
  });

  it('a tag that cannot be deleted keeps its store row, says why, and goes at the next verified start', async () => {
    const { world, restore, move } = await setup({ min: 1, max: 3, desired: 2 });
    await move('off');
    world.fail('DeleteTags', connectionReset());
    const started = await move('on');
    expect(started.notes).toEqual([
      { id: ID, kind: 'restore.forget-failed', detail: { error: expect.any(String) as unknown } },
    ]);
    expect(await restore.load(ID, 'capacity')).toEqual({ min: 1, max: 3, desired: 2 });
    expect((await move('on')).notes).toMatchObject([{ kind: 'restore.forgotten' }]);
    expect(await restore.load(ID, 'capacity')).toBeUndefined();
    expect([...world.group('workers').tags.keys()]).toEqual(['env']);
  });

  it('after a start whose forget failed, a ScheduledActions suspension a person sets is not taken for ours at the next stop, nor resumed', async () => {
    const { world, restore, move } = await setup({ min: 1, max: 3, desired: 2 });
    await move('off');
    world.fail('DeleteTags', awsError('AccessDenied', 'not allowed'), 5);
    const started = await move('on');
    expect(started.notes).toMatchObject([{ kind: 'restore.forget-failed' }]);
    // During the day a person suspends ScheduledActions for reasons of their own.
    await new AutoScalingClient({ region: 'eu-west-3' }).send(
      new SuspendProcessesCommand({
        AutoScalingGroupName: 'workers',
        ScalingProcesses: ['ScheduledActions'],
      }),
    );
    await move('off');
    expect(await restore.load(ID, 'suspendedProcesses')).toEqual([]);
    // The first stop's and the person's: the second stop suspended nothing.
    expect(world.calls('SuspendProcesses')).toBe(2);
    await move('on');
    expect(world.calls('ResumeProcesses')).toBe(1);
    expect([...world.group('workers').suspended]).toEqual(['ScheduledActions']);
  });

  it('ScheduledActions resumed by a person while off, then suspended again by day, is not taken for ours after a failed forget', async () => {
    const { world, restore, move } = await setup({ min: 1, max: 3, desired: 2 });
    await move('off');
    const client = new AutoScalingClient({ region: 'eu-west-3' });
    const processes = { AutoScalingGroupName: 'workers', ScalingProcesses: ['ScheduledActions'] };
    // While off, a person resumes it; the start finds nothing of lightsout's to resume.
    await client.send(new ResumeProcessesCommand(processes));
    world.fail('DeleteTags', awsError('AccessDenied', 'not allowed'), 5);
    expect((await move('on')).notes).toMatchObject([{ kind: 'restore.forget-failed' }]);
    await client.send(new SuspendProcessesCommand(processes));
    await move('off');
    expect(await restore.load(ID, 'suspendedProcesses')).toEqual([]);
    await move('on');
    expect([...world.group('workers').suspended]).toEqual(['ScheduledActions']);
  });
});
