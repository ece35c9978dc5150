import { describe, expect, it } from 'vitest';
import { isSecretReference, resolveSecret, SecretError } from '../../src/notify/secrets.js';

const sources = {
  env: { SLACK_WEBHOOK_URL: 'https://hooks.example/T/B/s3cret', EMPTY: '' },
  readFile: (path: string) => {
    if (path === '/run/secrets/smtp') return 'p4ssw0rd\n';
    if (path === '/run/secrets/empty') return '\n';
    throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  },
};

describe('secrets in the config', () => {
  it('reads ${VARIABLE} from the environment, inside a value too', () => {
    expect(resolveSecret('${SLACK_WEBHOOK_URL}', 'notifiers.team', sources)).toBe(
      'https://hooks.example/T/B/s3cret',
    );
    expect(resolveSecret('Bearer ${SLACK_WEBHOOK_URL}', 'x', sources)).toBe(
      'Bearer https://hooks.example/T/B/s3cret',
    );
  });

  it('reads file:/path without its trailing newline', () => {
    expect(resolveSecret('file:/run/secrets/smtp', 'notifiers.mail.password', sources)).toBe(
      'p4ssw0rd',
    );
  });

  it('takes any other value as it is', () => {
    expect(resolveSecret('plain', 'x', sources)).toBe('plain');
  });

  it.each([
    [
      '${MISSING}',
      'notifiers.team.webhook_url: the environment variable MISSING is not set; set it, or name a file with file:/path',
    ],
    [
      '${EMPTY}',
      'notifiers.team.webhook_url: the environment variable EMPTY is not set; set it, or name a file with file:/path',
    ],
    [
      'file:/nowhere',
      'notifiers.team.webhook_url: cannot read the secret file /nowhere (ENOENT); mount it there or fix the path',
    ],
    [
      'file:/run/secrets/empty',
      'notifiers.team.webhook_url: the secret file /run/secrets/empty is empty',
    ],
  ])('%s is refused with where it is used and the fix', (value, message) => {
    expect(() => resolveSecret(value, 'notifiers.team.webhook_url', sources)).toThrow(
      new SecretError(message),
    );
  });

  it('tells a reference from a secret written inline', () => {
    expect(isSecretReference('${SLACK_WEBHOOK_URL}')).toBe(true);
    expect(isSecretReference('file:/run/secrets/smtp')).toBe(true);
    expect(isSecretReference('https://hooks.slack.com/services/T/B/x')).toBe(false);
  });
});
