/** Command lines lightsout prints for people to paste. */
import { describe, expect, it } from 'vitest';
import { printableDatabaseUrl } from '../../src/cli/invocation.js';

describe('printable --db URLs', () => {
  it('a PostgreSQL password is never printed (in the authority or as a parameter)', () => {
    expect(printableDatabaseUrl('postgres://ops:s3cret@db.internal:5432/lightsout?schema=x')).toBe(
      'postgres://ops:***@db.internal:5432/lightsout?schema=x',
    );
    expect(printableDatabaseUrl('postgresql://ops@db.internal/lightsout?password=s3cret')).toBe(
      'postgresql://ops@db.internal/lightsout?password=***',
    );
    expect(printableDatabaseUrl('postgres://ops@db.internal/lightsout')).toBe(
      'postgres://ops@db.internal/lightsout',
    );
  });

  it('a SQLite path is printed byte for byte, spaces and all', () => {
    expect(printableDatabaseUrl('sqlite:/home/me/my stores/lightsout.db')).toBe(
      'sqlite:/home/me/my stores/lightsout.db',
    );
  });
});
