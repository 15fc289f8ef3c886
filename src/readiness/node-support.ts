/**
 * Node.js release lines with their LTS dates (nodejs/Release schedule.json; dates are the
 * project's plan and may move). Only LTS lines are listed: odd majors never become LTS.
 */
export const NODE_LTS_SCHEDULE: Record<number, { lts: string; maintenance: string; end: string }> = {
  18: { lts: '2022-10-25', maintenance: '2023-10-18', end: '2025-04-30' },
  20: { lts: '2023-10-24', maintenance: '2024-10-22', end: '2026-04-30' },
  22: { lts: '2024-10-29', maintenance: '2025-10-21', end: '2027-04-30' },
  24: { lts: '2025-10-28', maintenance: '2026-10-20', end: '2028-04-30' },
  26: { lts: '2026-10-28', maintenance: '2027-10-20', end: '2029-04-30' },
};

/** End of life this close warns, so the upgrade is planned rather than forced. */
export const EOL_WARN_DAYS = 90;

export interface NodeSupport {
  verdict: 'pass' | 'warn' | 'fail';
  status: 'active_lts' | 'maintenance_lts' | 'current' | 'end_of_life' | 'not_lts' | 'unknown';
  major: number;
  end_of_life: string | null;
  days_to_end_of_life: number | null;
}

const DAY_MS = 86_400_000;

/** Whether a Node version is a supported LTS release line on the given day. */
export function nodeSupport(version: string, today: Date): NodeSupport {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? NaN);
  const line = NODE_LTS_SCHEDULE[major];
  const at = (d: string) => Date.parse(`${d}T00:00:00Z`);
  if (!line) {
    const newest = Math.max(...Object.keys(NODE_LTS_SCHEDULE).map(Number));
    // A line newer than this build knows may well be an LTS; an older or odd one is not.
    const unknown = major > newest && major % 2 === 0;
    return {
      verdict: unknown ? 'warn' : 'fail',
      status: unknown ? 'unknown' : 'not_lts',
      major,
      end_of_life: null,
      days_to_end_of_life: null,
    };
  }
  const now = today.getTime();
  const days = Math.floor((at(line.end) - now) / DAY_MS);
  const base = { major, end_of_life: line.end, days_to_end_of_life: days };
  if (now >= at(line.end)) return { ...base, verdict: 'fail', status: 'end_of_life' };
  if (now < at(line.lts)) return { ...base, verdict: 'warn', status: 'current' };
  const status = now < at(line.maintenance) ? 'active_lts' : 'maintenance_lts';
  return { ...base, verdict: days <= EOL_WARN_DAYS ? 'warn' : 'pass', status };
}
