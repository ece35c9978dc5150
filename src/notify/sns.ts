/**
 * An Amazon SNS topic as a channel: one Publish per notice
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
 *
 * The SNSClient comes from the coordinator, built with the AWS provider's
 * credential rules (an assumed role through RoleSessions, a region, an endpoint):
 * this module only publishes and maps the answer to a DeliveryError.
 *
 * Subject: the Publish API reference constrains it to text with no line breaks
 * or control characters, "less than 100 characters long" (older revisions also
 * say ASCII, starting with a letter, number or punctuation mark). Email
 * subscribers see it as the subject line. It is made ASCII and cut to 99.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Notice } from '../engine/ports.js';
import { CHANNEL_TIMEOUT_MS, DeliveryError } from './channel.js';
import type { Channel } from './channel.js';
import { render } from './render.js';

export interface SnsChannelOptions {
  readonly name: string;
  readonly topicArn: string;
  readonly client: SNSClient;
}

/** Publish's Subject must be shorter than 100 characters. */
export const SNS_SUBJECT_MAX = 99;

export class SnsChannel implements Channel {
  readonly kind = 'sns' as const;
  readonly name: string;

  constructor(private readonly options: SnsChannelOptions) {
    this.name = options.name;
  }

  async send(notice: Notice): Promise<void> {
    const rendered = render(notice);
    const message = [
      rendered.text,
      '',
      ...rendered.facts.map((f) => `${f.label}: ${f.value}`),
      ...(rendered.lines.length === 0 ? [] : ['', ...rendered.lines.map((l) => `- ${l}`)]),
      ...actionLines(notice),
    ].join('\n');
    try {
      await this.options.client.send(
        new PublishCommand({
          TopicArn: this.options.topicArn,
          Subject: snsSubject(rendered.title),
          Message: message,
          MessageAttributes: {
            kind: { DataType: 'String', StringValue: notice.kind },
            environment: { DataType: 'String', StringValue: notice.environment },
          },
        }),
        { abortSignal: AbortSignal.timeout(CHANNEL_TIMEOUT_MS) },
      );
    } catch (error) {
      throw this.deliveryError(error);
    }
  }

  private deliveryError(error: unknown): DeliveryError {
    const e = error as {
      name?: string;
      $fault?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const name = e.name ?? '';
    const status = e.$metadata?.httpStatusCode;
    const topic = this.options.topicArn;
    const cause = { cause: error };
    if (name === 'AuthorizationErrorException' || name === 'AuthorizationError' || status === 403)
      return new DeliveryError(
        `SNS refused to publish to ${topic}: the credentials are not allowed sns:Publish on it (check the role's policy and the topic's access policy)`,
        true,
        cause,
      );
    if (name === 'NotFoundException' || name === 'NotFound' || status === 404)
      return new DeliveryError(
        `the SNS topic ${topic} does not exist (deleted, or in another region or account?)`,
        true,
        cause,
      );
    if (name.startsWith('KMS') && name !== 'KMSThrottlingException')
      return new DeliveryError(
        `SNS could not use the KMS key of ${topic} (${name}): check the key and its policy`,
        name === 'KMSAccessDeniedException' || name === 'KMSNotFoundException',
        cause,
      );
    if (
      name === 'ThrottledException' ||
      name === 'Throttled' ||
      name === 'KMSThrottlingException' ||
      status === 429
    )
      return new DeliveryError(
        `SNS throttled publishing to ${topic}: trying again later`,
        false,
        cause,
      );
    if (name === 'TimeoutError' || name === 'AbortError')
      return new DeliveryError(
        `SNS did not answer within ${CHANNEL_TIMEOUT_MS / 1000} s publishing to ${topic}`,
        false,
        cause,
      );
    if (e.$fault === 'server' || (status !== undefined && status >= 500))
      return new DeliveryError(
        `SNS failed publishing to ${topic} (${name || status}): trying again later`,
        false,
        cause,
      );
    if (e.$fault === 'client' || (status !== undefined && status >= 400))
      return new DeliveryError(
        `SNS rejected the message for ${topic} (${name || status}): check the topic's settings`,
        true,
        cause,
      );
    // No answer from SNS at all (network, DNS, credentials not resolved yet): maybe next time.
    return new DeliveryError(
      `could not reach SNS to publish to ${topic} (${name || 'network error'})`,
      false,
      cause,
    );
  }
}

function actionLines(notice: Notice): string[] {
  const actions = notice.details?.['actions'];
  if (!Array.isArray(actions)) return [];
  const lines: string[] = [];
  for (const a of actions as unknown[]) {
    const { label, url } = (a ?? {}) as { label?: unknown; url?: unknown };
    if (typeof label === 'string' && typeof url === 'string') lines.push(`${label}: ${url}`);
  }
  return lines.length === 0 ? [] : ['', ...lines];
}

/** A title made fit for Publish's Subject: ASCII, one line, shorter than 100 characters. */
export function snsSubject(title: string): string {
  const ascii = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  const subject = ascii === '' ? 'lightsout notice' : ascii;
  return subject.length <= SNS_SUBJECT_MAX
    ? subject
    : `${subject.slice(0, SNS_SUBJECT_MAX - 3).trimEnd()}...`;
}
