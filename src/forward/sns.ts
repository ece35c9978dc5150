/**
 * An SNS topic as a destination: PublishBatch, one message per event, the event's
 * JSON as the message, its kind and environment as message attributes (for
 * subscription filter policies) (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html).
 *
 * Limits, from the PublishBatch API reference: "Publishes up to 10 messages";
 * "The maximum allowed individual message size and the maximum total payload size
 * (the sum of the individual lengths of all of the batched messages) are both 256 KB
 * (262,144 bytes)", message attributes counting towards it; and "you should check
 * for batch errors even when the call returns an HTTP status code of 200" (Failed,
 * each with Id, Code and SenderFault).
 */
import { PublishBatchCommand } from '@aws-sdk/client-sns';
import type {
  MessageAttributeValue,
  PublishBatchRequestEntry,
  SNSClient,
} from '@aws-sdk/client-sns';
import type { Event } from '../store/queries/events.js';
import {
  cut,
  eventBody,
  forwardErrorOf,
  retryOfCode,
  truncatedBody,
  utf8Bytes,
} from './destination.js';
import type { Destination, Outcome } from './destination.js';

export const PUBLISH_BATCH_MAX_ENTRIES = 10;
export const PUBLISH_BATCH_MAX_BYTES = 262_144;
const REQUEST_TIMEOUT_MS = 10_000;

export interface SnsDestinationOptions {
  readonly key: string;
  readonly client: SNSClient;
  readonly topicArn: string;
}

export class SnsDestination implements Destination {
  readonly key: string;

  constructor(private readonly options: SnsDestinationOptions) {
    this.key = options.key;
  }

  batches(events: readonly Event[]): Event[][] {
    return cut(
      events,
      (e) => messageSize(entryOf(e)),
      PUBLISH_BATCH_MAX_ENTRIES,
      PUBLISH_BATCH_MAX_BYTES,
    );
  }

  async send(batch: readonly Event[]): Promise<Outcome[]> {
    let answer;
    try {
      answer = await this.options.client.send(
        new PublishBatchCommand({
          TopicArn: this.options.topicArn,
          PublishBatchRequestEntries: batch.map(entryOf),
        }),
        { abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      );
    } catch (error) {
      throw forwardErrorOf(error, `SNS topic ${this.options.topicArn}`);
    }
    const ok = new Set((answer.Successful ?? []).map((s) => s.Id));
    const failed = new Map((answer.Failed ?? []).map((f) => [f.Id, f]));
    return batch.map((event): Outcome => {
      const id = entryId(event);
      if (ok.has(id)) return { ok: true };
      const failure = failed.get(id);
      const code = failure?.Code ?? 'Missing';
      return {
        ok: false,
        // Neither successful nor failed: not known to be published, so sent again.
        retry: failure === undefined ? 'transient' : retryOfCode(code, failure.SenderFault),
        code,
        message: failure?.Message ?? 'no result for this message',
      };
    });
  }
}

/** Ids are unique within a request: the event's id. */
const entryId = (event: Event) => `e${event.id}`;

function entryOf(event: Event): PublishBatchRequestEntry {
  const attributes: Record<string, MessageAttributeValue> = {
    kind: { DataType: 'String', StringValue: event.kind },
    // An attribute's value cannot be empty: events of no environment leave it out.
    ...(event.environment === null || event.environment === ''
      ? {}
      : { environment: { DataType: 'String', StringValue: event.environment } }),
  };
  const full = { Id: entryId(event), Message: eventBody(event), MessageAttributes: attributes };
  return messageSize(full) <= PUBLISH_BATCH_MAX_BYTES
    ? full
    : { ...full, Message: truncatedBody(event) };
}

/** The message's size as SNS counts it: the body plus each attribute's name, type and value. */
export function messageSize(entry: PublishBatchRequestEntry): number {
  let size = utf8Bytes(entry.Message ?? '');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {}))
    size += utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? '');
  return size;
}
