/**
 * The AWS provider (AWS SDK for JavaScript v3). One client per service, region and
 * endpoint, reused, in the SDK's adaptive retry mode for throttling. This version
 * has the `ec2` and `asg` kinds; the others of issue #5 follow the same shape.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { PowerState, Selector } from '../../core/glossary.js';
import type {
  ActOutcome,
  Observation,
  Provider,
  Resource,
  RestoreData,
} from '../../engine/ports.js';
import type { Ec2Details } from './ec2.js';

export interface AwsSettings {
  readonly regions: readonly string[];
  readonly endpoint?: string;
  readonly hibernate?: boolean;
}

export type Ec2ClientFactory = (
  region: string,
  endpoint: string | undefined,
) => EC2Client | Promise<EC2Client>;

/**
 * The SDK is loaded on first use: a process that drives no AWS resource does not
 * carry its memory (tens of megabytes).
 */
const loadEc2 = () => import('./ec2.js');
const loadAsg = () => import('./asg.js');

export type AsgClientFactory = (
  region: string,
  endpoint: string | undefined,
) => AutoScalingClient | Promise<AutoScalingClient>;

const defaultAsgClient: AsgClientFactory = async (region, endpoint) => {
  const { AutoScalingClient: Client } = await import('@aws-sdk/client-auto-scaling');
  return new Client({
    region,
    retryMode: 'adaptive',
    maxAttempts: 5,
    ...(endpoint === undefined ? {} : { endpoint }),
  });
};

export interface AwsProviderOptions {
  readonly ec2Client?: Ec2ClientFactory;
  readonly asgClient?: AsgClientFactory;
  /** Where a stopped Auto Scaling group's capacity is kept. */
  readonly restore?: RestoreData;
}

/** Restore data kept in memory only: for tests and previews without a store. */
export function memoryRestoreData(): RestoreData {
  const saved = new Map<string, unknown>();
  return {
    save: (id, data) => Promise.resolve(void saved.set(id, data)),
    load: (id) => Promise.resolve(saved.get(id)),
  };
}

const defaultEc2Client: Ec2ClientFactory = async (region, endpoint) => {
  const { EC2Client: Client } = await import('@aws-sdk/client-ec2');
  return new Client({
    region,
    retryMode: 'adaptive',
    maxAttempts: 5,
    ...(endpoint === undefined ? {} : { endpoint }),
  });
};

export class AwsProvider implements Provider {
  readonly name = 'aws';
  private readonly clients = new Map<string, EC2Client>();
  private readonly asgClients = new Map<string, AutoScalingClient>();
  private readonly ec2Client: Ec2ClientFactory;
  private readonly asgClient: AsgClientFactory;
  private readonly restore: RestoreData;
  private readonly details = new Map<string, Ec2Details>();
  private readonly wantsHibernation = new Set<string>();
  private readonly endpoints = new Map<string, string | undefined>();
  /** Instances this process asked to start, so a fall back to stopped reads as a failure. */
  private readonly started = new Set<string>();

  constructor(options: AwsProviderOptions = {}) {
    this.ec2Client = options.ec2Client ?? defaultEc2Client;
    this.asgClient = options.asgClient ?? defaultAsgClient;
    this.restore = options.restore ?? memoryRestoreData();
  }

  async discover(selector: Selector): Promise<Resource[]> {
    const settings = selector.settings as AwsSettings | undefined;
    const kinds = selector.kinds ?? ['ec2'];
    const found: Resource[] = [];
    for (const region of settings?.regions ?? []) {
      if (kinds.includes('ec2')) {
        const { discoverInstances } = await loadEc2();
        const client = await this.client(region, settings?.endpoint);
        for (const { resource, details } of await discoverInstances(
          client,
          region,
          selector.tags ?? {},
        )) {
          this.details.set(resource.id, details);
          if (settings?.hibernate === true) this.wantsHibernation.add(resource.id);
          found.push(resource);
        }
      }
      if (kinds.includes('asg')) {
        const { discoverGroups } = await loadAsg();
        const client = await this.autoScaling(region, settings?.endpoint);
        found.push(...(await discoverGroups(client, region, selector.tags ?? {})));
      }
    }
    for (const r of found) this.endpoints.set(r.id, settings?.endpoint);
    return found;
  }

  async observe(resources: readonly Resource[]): Promise<Map<string, Observation>> {
    const { observeInstances } = await loadEc2();
    const states = new Map<string, Observation>();
    for (const [key, group] of this.byClient(resources)) {
      const [kind, region = '', endpoint] = key.split('|');
      const observed =
        kind === 'asg'
          ? await (
              await loadAsg()
            ).observeGroups(await this.autoScaling(region, endpoint || undefined), group)
          : await observeInstances(
              await this.client(region, endpoint || undefined),
              group,
              this.started,
            );
      for (const [id, state] of observed) states.set(id, state);
    }
    return states;
  }

  async act(resources: readonly Resource[], target: PowerState): Promise<ActOutcome[]> {
    const { changeInstances } = await loadEc2();
    const outcomes: ActOutcome[] = [];
    const actable: Resource[] = [];
    for (const r of resources) {
      const unstoppable = this.details.get(r.id)?.unstoppable;
      if (target === 'off' && unstoppable !== undefined) {
        outcomes.push({
          id: r.id,
          result: 'failed',
          reason: `cannot stop ${r.name}: ${unstoppable}`,
        });
      } else {
        actable.push(r);
      }
    }
    const hibernate = new Set<string>();
    const fellBack = new Set<string>();
    for (const r of actable) {
      if (!this.wantsHibernation.has(r.id)) continue;
      if (this.details.get(r.id)?.hibernationConfigured === true) hibernate.add(r.id);
      else fellBack.add(r.id);
    }
    for (const [key, group] of this.byClient(actable)) {
      const [kind, region = '', endpoint] = key.split('|');
      if (kind === 'asg') {
        const { changeGroups } = await loadAsg();
        outcomes.push(
          ...(await changeGroups(
            await this.autoScaling(region, endpoint || undefined),
            group,
            target,
            this.restore,
          )),
        );
        continue;
      }
      const client = await this.client(region, endpoint || undefined);
      for (const outcome of await changeInstances(client, group, target, { hibernate })) {
        if (target === 'on' && outcome.result === 'accepted') this.started.add(outcome.id);
        if (target === 'off') this.started.delete(outcome.id);
        const note =
          target === 'off' && fellBack.has(outcome.id)
            ? 'hibernation is not configured on this instance; stopped it instead'
            : undefined;
        outcomes.push(note === undefined ? outcome : { ...outcome, output: note });
      }
    }
    return outcomes;
  }

  settleTimeoutMs(kind: string): number {
    // Groups drain their instances (lifecycle hooks, deregistration delays) before reaching 0.
    return kind === 'asg' ? 20 * 60_000 : 10 * 60_000;
  }

  private async client(region: string, endpoint: string | undefined): Promise<EC2Client> {
    const key = `${region}|${endpoint ?? ''}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      client = await this.ec2Client(region, endpoint);
      this.clients.set(key, client);
    }
    return client;
  }

  private async autoScaling(
    region: string,
    endpoint: string | undefined,
  ): Promise<AutoScalingClient> {
    const key = `${region}|${endpoint ?? ''}`;
    let client = this.asgClients.get(key);
    if (client === undefined) {
      client = await this.asgClient(region, endpoint);
      this.asgClients.set(key, client);
    }
    return client;
  }

  /** Resources grouped by the client that reaches them (kind, region and endpoint). */
  private byClient(resources: readonly Resource[]): Map<string, Resource[]> {
    const groups = new Map<string, Resource[]>();
    for (const r of resources) {
      const region = r.id.split(':')[2] ?? '';
      const key = `${r.kind}|${region}|${this.endpoints.get(r.id) ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    return groups;
  }
}
