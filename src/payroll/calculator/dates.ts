import type { Period } from './types';

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * YYYY-MM-DD → UTC midnight epoch ms. Calendar arithmetic is done in UTC so a daylight-saving
 * change in the server's zone can never make a day 23 or 25 hours long.
 */
export function parseDate(date: string): number {
  const match = DATE_TEXT.exec(date);
  if (!match) {
    throw new RangeError(`date must be YYYY-MM-DD, got "${date}"`);
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March; a rolled date is a typo, not a date.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new RangeError(`not a calendar date: "${date}"`);
  }
  return ms;
}

/** ISO-8601 week, 'YYYY-Www'. The week belongs to the year of its Thursday. */
export function isoWeek(date: string): string {
  const ms = parseDate(date);
  const weekday = (new Date(ms).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(ms + (3 - weekday) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const firstDay = Date.UTC(weekYear, 0, 1);
  const week = Math.floor((thursday.getTime() - firstDay) / DAY_MS / 7) + 1;
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

/** Calendar days of the period, both ends included. */
export function periodDays(period: Period): number {
  const start = parseDate(period.start);
  const end = parseDate(period.end);
  if (end < start) {
    throw new RangeError(`period ends (${period.end}) before it starts (${period.start})`);
  }
  return Math.round((end - start) / DAY_MS) + 1;
}

export function inPeriod(date: string, period: Period): boolean {
  const ms = parseDate(date);
  return ms >= parseDate(period.start) && ms <= parseDate(period.end);
}
