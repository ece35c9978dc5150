/**
 * Public holidays of a country or country-region (`FR`, `DE-BY`, `US-CA`), from
 * date-holidays. Only holidays of type "public" count: bank, school, optional
 * and observance days are working days for most teams.
 */
import Holidays from 'date-holidays';

const DAY = 86_400_000;
const calendars = new Map<string, Holidays>();
const years = new Map<string, readonly string[]>();

function parts(code: string): [string, string | undefined, string | undefined] {
  const [country = '', state, region] = code.toUpperCase().split('-');
  return [country, state, region];
}

/** Whether date-holidays knows `code` (country, optionally state and region). */
export function isKnownHolidayRegion(code: string): boolean {
  const [country, state, region] = parts(code);
  const lookup = new Holidays();
  if (!(country in lookup.getCountries())) return false;
  if (state === undefined) return true;
  // The typings say object, but date-holidays returns undefined where a country has no states.
  const states = lookup.getStates(country) as Record<string, string> | undefined;
  if (states === undefined || !(state in states)) return false;
  if (region === undefined) return true;
  const regions = lookup.getRegions(country, state) as Record<string, string> | undefined;
  return regions !== undefined && region in regions;
}

function calendar(code: string): Holidays {
  let found = calendars.get(code);
  if (found === undefined) {
    const [country, state, region] = parts(code);
    found = new Holidays();
    if (state === undefined) found.init(country);
    else if (region === undefined) found.init(country, state);
    else found.init(country, state, region);
    calendars.set(code, found);
  }
  return found;
}

/** Local dates `YYYY-MM-DD` of the public holidays of `code` in `year`. */
export function publicHolidays(code: string, year: number): readonly string[] {
  const key = `${code}/${year}`;
  let dates = years.get(key);
  if (dates === undefined) {
    dates = calendar(code)
      .getHolidays(year)
      .filter((holiday) => holiday.type === 'public')
      .flatMap((holiday) => {
        // Some public holidays last several days (Eid al-Fitr in AE is 72 hours).
        const days = Math.max(
          1,
          Math.round((holiday.end.getTime() - holiday.start.getTime()) / DAY),
        );
        const first = Date.parse(`${holiday.date.slice(0, 10)}T00:00:00Z`);
        return Array.from({ length: days }, (_, i) =>
          new Date(first + i * DAY).toISOString().slice(0, 10),
        );
      });
    years.set(key, dates);
  }
  return dates;
}
