/**
 * The AWS provider (AWS SDK for JavaScript v3). One client per region and
 * endpoint, reused, in the SDK's adaptive retry mode for throttling. This version
 * has the `ec2` kind; the others of issue #5 follow the same shape.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { PowerState, Selector } from '../../core/glossary.js';
import type { ActOutcome, Observation, Provider, Resource } from '../../engine/ports.js';
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
  private readonly details = new Map<string, Ec2Details>();
  private readonly wantsHibernation = new Set<string>();
  private readonly endpoints = new Map<string, string | undefined>();
  /** Instances this process asked to start, so a fall back to stopped reads as a failure. */
  private readonly started = new Set<string>();

  constructor(private readonly ec2Client: Ec2ClientFactory = defaultEc2Client) {}

  async discover(selector: Selector): Promise<Resource[]> {
    const { discoverInstances } = await loadEc2();
    const settings = selector.settings as AwsSettings | undefined;
    const found: Resource[] = [];
    for (const region of settings?.regions ?? []) {
      const client = await this.client(region, settings?.endpoint);
      for (const { resource, details } of await discoverInstances(
        client,
        region,
        selector.tags ?? {},
      )) {
        this.details.set(resource.id, details);
        this.endpoints.set(resource.id, settings?.endpoint);
        if (settings?.hibernate === true) this.wantsHibernation.add(resource.id);
        found.push(resource);
      }
    }
    return found;
  }

  async observe(resources: readonly Resource[]): Promise<Map<string, Observation>> {
    const { observeInstances } = await loadEc2();
    const states = new Map<string, Observation>();
    for (const [key, group] of this.byClient(resources)) {
      const [region = '', endpoint] = key.split('|');
      const client = await this.client(region, endpoint || undefined);
      for (const [id, state] of await observeInstances(client, group, this.started))
        states.set(id, state);
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
      const [region = '', endpoint] = key.split('|');
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

  settleTimeoutMs(): number {
    return 10 * 60_000;
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

  /** Resources grouped by the client that reaches them (region and endpoint). */
  private byClient(resources: readonly Resource[]): Map<string, Resource[]> {
    const groups = new Map<string, Resource[]>();
    for (const r of resources) {
      const region = r.id.split(':')[2] ?? '';
      const key = `${region}|${this.endpoints.get(r.id) ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    return groups;
  }
}
