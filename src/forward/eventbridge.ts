/**
 * An EventBridge bus as a destination: PutEvents, one entry per event, Source
 * from the config (default `lightsout`), DetailType the event's kind, Detail the
 * event's JSON (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html).
 *
 * Limits, from AWS documentation:
 * - "Entries ... Array Members: Minimum number of 1 item. Maximum number of 10
 *   items." (PutEvents API reference).
 * - "The total entry size must be less than 256KB", the entry size being 14 bytes
 *   for Time plus the UTF-8 bytes of Source, DetailType, Detail and each Resources
 *   item (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 * - A request can succeed with some entries failed: "You must detect unsuccessful
 *   entries and include them in a subsequent call" (FailedEntryCount, and ErrorCode
 *   on each failed entry: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html).
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
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

export const PUT_EVENTS_MAX_ENTRIES = 10;
/** "less than 256KB": 262,144 bytes excluded. */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024 - 1;
/** Time counts 14 bytes. */
const TIME_BYTES = 14;
/** A request stops waiting after this; the forwarder tries again. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface EventBridgeDestinationOptions {
  readonly key: string;
  readonly client: EventBridgeClient;
  /** EventBusName: a name or an ARN. */
  readonly bus: string;
  readonly source: string;
}

export class EventBridgeDestination implements Destination {
  readonly key: string;

  constructor(private readonly options: EventBridgeDestinationOptions) {
    this.key = options.key;
  }

  batches(events: readonly Event[]): Event[][] {
    return cut(
      events,
      (e) => entrySize(this.entry(e)),
      PUT_EVENTS_MAX_ENTRIES,
      PUT_EVENTS_MAX_BYTES,
    );
  }

  async send(batch: readonly Event[]): Promise<Outcome[]> {
    const entries = batch.map((e) => this.entry(e));
    let answer;
    try {
      answer = await this.options.client.send(new PutEventsCommand({ Entries: entries }), {
        abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw forwardErrorOf(error, `EventBridge bus ${this.options.bus}`);
    }
    const results = answer.Entries ?? [];
    return batch.map((_, i): Outcome => {
      const result = results[i];
      // The response has one entry per request entry, in order; a missing one was not accepted.
      if (result === undefined)
        return {
          ok: false,
          retry: 'transient',
          code: 'Missing',
          message: 'no result for this entry',
        };
      if (result.ErrorCode === undefined && result.EventId !== undefined) return { ok: true };
      const code = result.ErrorCode ?? 'Unknown';
      return { ok: false, retry: retryOfCode(code), code, message: result.ErrorMessage ?? code };
    });
  }

  private entry(event: Event): PutEventsRequestEntry {
    const base = {
      EventBusName: this.options.bus,
      Source: this.options.source,
      DetailType: event.kind,
      Time: new Date(event.at),
    };
    const full = { ...base, Detail: eventBody(event) };
    return entrySize(full) <= PUT_EVENTS_MAX_BYTES
      ? full
      : { ...base, Detail: truncatedBody(event) };
  }
}

/** The size EventBridge counts for an entry (eb-putevent-size.html). */
export function entrySize(entry: PutEventsRequestEntry): number {
  return (
    (entry.Time === undefined ? 0 : TIME_BYTES) +
    utf8Bytes(entry.Source ?? '') +
    utf8Bytes(entry.DetailType ?? '') +
    utf8Bytes(entry.Detail ?? '') +
    (entry.Resources ?? []).reduce((sum, r) => sum + utf8Bytes(r), 0)
  );
}
