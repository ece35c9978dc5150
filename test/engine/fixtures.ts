/** Schedules the engine's tests share. */
import { periodSchedule } from '../core/build.js';

/** Monday to Friday, 08:00 to 18:00 UTC. */
export const officeHours = {
  ...periodSchedule('UTC', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};
