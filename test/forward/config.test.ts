import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, parseConfig } from '../../src/config/load.js';

const load = (text: string) => parseConfig(text, 'lightsout.yaml');

function errors(text: string): string[] {
  const result = load(text);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.diagnostics.map(formatDiagnostic);
}

describe('forward: in the config', () => {
  it('takes an EventBridge bus and an SNS topic, with the defaults filled in', () => {
    const result = load(`
forward:
  - { type: eventbridge, bus: lightsout, region: eu-west-3, kinds: ["run.*"] }
  - type: sns
    topic_arn: arn:aws:sns:eu-west-3:123456789012:lightsout-events
    role_arn: arn:aws:iam::123456789012:role/lightsout-events
`);
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    expect(result.config.document.forward).toEqual([
      {
        type: 'eventbridge',
        bus: 'lightsout',
        region: 'eu-west-3',
        source: 'lightsout',
        kinds: ['run.*'],
      },
      {
        type: 'sns',
        topic_arn: 'arn:aws:sns:eu-west-3:123456789012:lightsout-events',
        role_arn: 'arn:aws:iam::123456789012:role/lightsout-events',
      },
    ]);
  });

  it('takes the example in docs/forwarding.md', () => {
    const docs = readFileSync('docs/forwarding.md', 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    const result = load(example ?? 'no example');
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    expect(result.config.document.forward.map((f) => f.type)).toEqual(['eventbridge', 'sns']);
  });

  it('is empty when left out', () => {
    const result = load('environments: {}');
    expect(result.ok && result.config.document.forward).toEqual([]);
  });

  it('names the field and the fix for each mistake', () => {
    expect(errors('forward: [{ type: kafka, topic: x }]').join('\n')).toMatch(
      /forward\[0\]\.type.*type is one of eventbridge, sns/,
    );
    expect(
      errors(
        'forward: [{ type: eventbridge, region: eu-west-1, bus: "arn:aws:events:eu-west-3:123456789012:event-bus/lightsout" }]',
      ).join('\n'),
    ).toMatch(
      /forward\[0\]\.region.*the bus is in eu-west-3, not eu-west-1; write region: eu-west-3/,
    );
    expect(
      errors('forward: [{ type: eventbridge, bus: "my bus", region: eu-west-3 }]').join('\n'),
    ).toMatch(/forward\[0\]\.bus.*write the bus as its name/);
    expect(errors('forward: [{ type: eventbridge, bus: b, region: paris }]').join('\n')).toMatch(
      /forward\[0\]\.region.*eu-west-3/,
    );
    expect(
      errors('forward: [{ type: eventbridge, bus: b, region: eu-west-3, source: aws.ec2 }]').join(
        '\n',
      ),
    ).toMatch(/forward\[0\]\.source.*reserved for AWS services/);
    expect(
      errors('forward: [{ type: eventbridge, bus: b, region: eu-west-3, kinds: ["Run!"] }]').join(
        '\n',
      ),
    ).toMatch(/forward\[0\]\.kinds\[0\].*e\.g\. run\.\*/);
    expect(
      errors('forward: [{ type: eventbridge, bus: b, region: eu-west-3, kinds: [] }]').join('\n'),
    ).toMatch(/forward\[0\]\.kinds.*leave kinds out for all/);
    expect(
      errors(
        'forward: [{ type: sns, topic_arn: "arn:aws:sns:eu-west-3:123456789012:events.fifo" }]',
      ).join('\n'),
    ).toMatch(/forward\[0\]\.topic_arn.*standard topic/);
    expect(
      errors(
        'forward: [{ type: sns, topic_arn: "arn:aws:sns:eu-west-3:123456789012:t", role_arn: lightsout }]',
      ).join('\n'),
    ).toMatch(/forward\[0\]\.role_arn.*IAM role ARN/);
    expect(
      errors(`
forward:
  - { type: eventbridge, bus: b, region: eu-west-3, kinds: ["run.*"] }
  - { type: eventbridge, bus: b, region: eu-west-3, kinds: ["environment.*"] }
`).join('\n'),
    ).toMatch(/forward\[1\].*the same destination as forward\[0\]/);
  });
});
