/**
 * `lightsout lint` on the `forward` list: what the schema accepts but is
 * probably not meant. The schema already refuses malformed buses, topics, roles
 * and kinds, a bus ARN in another region than `region`, and one destination
 * listed twice; these are the mistakes left.
 */
import { closest } from 'fastest-levenshtein';
import type { ConfigDocument } from '../config/schema.js';
import { kindFilter, RECORDED_KINDS } from './kinds.js';

export interface ForwardWarning {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

type Document = Pick<ConfigDocument, 'forward' | 'notifiers' | 'switches'>;

export function forwardWarnings(document: Document): ForwardWarning[] {
  return document.forward.flatMap((f, index) => [
    ...kindsWarnings(f.kinds ?? [], ['forward', index, 'kinds']),
    ...(f.type === 'sns' ? sharedTopicWarnings(f.topic_arn, index, document) : []),
  ]);
}

/** Kinds that forward nothing, or nothing another entry of the list does not already. */
function kindsWarnings(kinds: readonly string[], at: (string | number)[]): ForwardWarning[] {
  const matched = kinds.map((k) => RECORDED_KINDS.filter(kindFilter([k])));
  return kinds.flatMap((kind, j): ForwardWarning[] => {
    const mine = matched[j]!;
    if (mine.length === 0)
      return [
        {
          path: [...at, j],
          message: `"${kind}" matches no kind of event lightsout records, so it forwards nothing; ${
            kind.includes('*')
              ? 'check the glob'
              : `did you mean "${closest(kind, RECORDED_KINDS)}"?`
          } (docs/events.md lists every kind)`,
        },
      ];
    if (kind === '*')
      return [
        {
          path: [...at, j],
          message:
            '"*" matches every kind, as leaving kinds out does; remove kinds to forward everything',
        },
      ];
    // Covered by another entry: by one that takes more, or by an earlier one that takes the same.
    const k = matched.findIndex(
      (other, i) =>
        i !== j && mine.every((m) => other.includes(m)) && (other.length > mine.length || i < j),
    );
    return k === -1
      ? []
      : [
          {
            path: [...at, j],
            message: `every kind "${kind}" matches is already forwarded by "${kinds[k]!}" (kinds[${k}]); remove one of them`,
          },
        ];
  });
}

/**
 * A forwarding topic that lightsout also reads from (an SNS hook) or sends
 * notices to: events and messages for people or switches would mix.
 */
function sharedTopicWarnings(topic: string, index: number, document: Document): ForwardWarning[] {
  const at = ['forward', index, 'topic_arn'];
  const hooks = Object.entries(document.switches.hooks)
    .filter(([, h]) => h.type === 'sns' && h.topic_arn === topic)
    .map(([name]): ForwardWarning => ({
      path: at,
      message: `the hook switches.hooks.${name} takes its requests from this topic, so every forwarded event would reach it as a request (with do:, each would start or stop an environment); forward to a topic of its own`,
    }));
  const notifiers = Object.entries(document.notifiers)
    .filter(([, n]) => n.type === 'sns' && n.topic_arn === topic)
    .map(([name]): ForwardWarning => ({
      path: at,
      message: `the notifier notifiers.${name} sends its notices to this topic, so its subscribers (e-mail, SMS, chat) would get every forwarded event as JSON too; forward to a topic of its own`,
    }));
  return [...hooks, ...notifiers];
}
