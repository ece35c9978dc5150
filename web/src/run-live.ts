/**
 * A run kept up to date: through its server-sent events stream (the browser's own
 * EventSource, which sends the session cookie and reconnects by itself with
 * Last-Event-ID), and, when the stream cannot be had (refused, or failing again
 * and again), by reading the run every few seconds. Says which of the two it is.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';
import type { RunDetail } from './run-api';
import { OPEN, runDetail } from './run-api';

const POLL_MS = 3_000;
/** Failed connections in a row before the page gives up on the stream and reads instead. */
const STREAM_TRIES = 3;

/** How the page hears of changes: live, reconnecting, reading every few seconds, or not at all (over). */
export type Link = 'connecting' | 'live' | 'reconnecting' | 'polling' | 'over';

export type Feed =
  | { readonly kind: 'loading' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly run: RunDetail };

export function useRunFeed(id: string): {
  feed: Feed;
  link: Link;
  /** A run the page got otherwise (a cancel's answer is read again). */
  refresh: () => void;
} {
  const [feed, setFeed] = useState<Feed>({ kind: 'loading' });
  const [link, setLink] = useState<Link>('connecting');
  const [refreshes, setRefreshes] = useState(0);

  useEffect(() => {
    let stopped = false;
    let source: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    const show = (run: RunDetail) => {
      if (stopped) return;
      setFeed({ kind: 'ready', run });
      if (!OPEN.includes(run.status)) {
        finish();
        setLink('over');
      }
    };
    const finish = () => {
      source?.close();
      source = undefined;
      if (timer !== undefined) clearTimeout(timer);
    };
    /** Reads the run once; again after POLL_MS while it is under way and `again`. */
    const read = (again: boolean) => {
      runDetail(id).then(
        (run) => {
          show(run);
          if (again && !stopped && OPEN.includes(run.status))
            timer = setTimeout(() => {
              read(true);
            }, POLL_MS);
        },
        (error: unknown) => {
          if (stopped) return;
          if (error instanceof ApiError && error.status === 404) {
            finish();
            setFeed({ kind: 'not-found' });
            setLink('over');
            return;
          }
          setFeed((current) =>
            current.kind === 'ready'
              ? current
              : { kind: 'error', message: error instanceof Error ? error.message : String(error) },
          );
          // Keeps trying: the page says it is not live meanwhile.
          if (again)
            timer = setTimeout(() => {
              read(true);
            }, POLL_MS);
        },
      );
    };
    const poll = () => {
      finish();
      setLink('polling');
      read(true);
    };

    if (typeof EventSource === 'undefined') poll();
    else {
      source = new EventSource(`/api/v1/runs/${encodeURIComponent(id)}/stream`);
      source.onopen = () => {
        failures = 0;
        setLink('live');
      };
      const onEvent = (message: MessageEvent<string>) => {
        show(JSON.parse(message.data) as RunDetail);
      };
      source.addEventListener('run', onEvent);
      source.addEventListener('end', onEvent);
      source.onerror = () => {
        failures += 1;
        // Closed: the server refused it (not found, signed out, too many streams). Reading
        // says which; reconnecting: the browser tries again by itself, a few times.
        if (source?.readyState === EventSource.CLOSED || failures >= STREAM_TRIES) poll();
        else setLink('reconnecting');
      };
    }
    return () => {
      stopped = true;
      finish();
    };
  }, [id, refreshes]);

  return {
    feed,
    link,
    refresh: () => {
      setRefreshes((n) => n + 1);
    },
  };
}
