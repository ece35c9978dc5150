/** Logs: for people on a terminal, JSON elsewhere, LIGHTSOUT_LOG_FORMAT to choose; secrets redacted either way. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormat, LogFormatError } from '../../src/app/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('the log format', () => {
  it.each([
    [undefined, true, 'pretty'],
    [undefined, false, 'json'],
    ['', true, 'pretty'],
    ['json', true, 'json'],
    ['pretty', false, 'pretty'],
  ] as const)('LIGHTSOUT_LOG_FORMAT=%s on a terminal: %s gives %s', (setting, terminal, format) => {
    expect(logFormat(setting, terminal)).toBe(format);
  });

  it('refuses a format it does not know, saying which it knows', () => {
    expect(() => logFormat('yaml', true)).toThrow(
      new LogFormatError(
        'LIGHTSOUT_LOG_FORMAT="yaml" is not a log format; set it to json or pretty, or unset it',
      ),
    );
  });

  it('pretty logs are one line for people, with secrets redacted', () => {
    const { lines, stream } = capture();
    const log = createLogger(stream, 'info', 'pretty');
    log.info({ port: 8080, db: 'postgres://u:topsecret@h/d' }, 'lightsout is serving');
    const text = lines.join('');
    expect(text).toMatch(/INFO.*lightsout is serving/);
    expect(text).toContain('"port":8080');
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain('topsecret');
    expect(text.trimEnd().split('\n')).toHaveLength(1);
  });

  it('JSON logs are one object a line', () => {
    const { lines, stream } = capture();
    createLogger(stream, 'info', 'json').info({ port: 8080 }, 'lightsout is serving');
    expect(JSON.parse(lines.join(''))).toMatchObject({ msg: 'lightsout is serving', port: 8080 });
  });
});
