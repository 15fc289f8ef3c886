import { nextTick } from './cluster-cron.service';

const at = (iso: string) => new Date(iso);

describe('nextTick', () => {
  describe('everyMs', () => {
    it('aligns to the next multiple of the period since the epoch', () => {
      const minute = { everyMs: 60_000 };
      expect(nextTick(minute, at('2025-03-10T12:34:56.789Z')).toISOString()).toBe('2025-03-10T12:35:00.000Z');
      expect(nextTick({ everyMs: 15 * 60_000 }, at('2025-03-10T12:34:56.789Z')).toISOString()).toBe(
        '2025-03-10T12:45:00.000Z',
      );
      const tick = nextTick({ everyMs: 7_000 }, at('2025-03-10T12:34:56.789Z'));
      expect(tick.getTime() % 7_000).toBe(0);
      expect(tick.getTime() - at('2025-03-10T12:34:56.789Z').getTime()).toBeLessThanOrEqual(7_000);
    });

    it('is strictly after now, even when now is on a tick', () => {
      const now = at('2025-03-10T12:35:00.000Z');
      expect(nextTick({ everyMs: 60_000 }, now).toISOString()).toBe('2025-03-10T12:36:00.000Z');
      const justBefore = at('2025-03-10T12:34:59.999Z');
      expect(nextTick({ everyMs: 60_000 }, justBefore).toISOString()).toBe('2025-03-10T12:35:00.000Z');
    });
  });

  describe('cron (UTC)', () => {
    it("'0 4 * * *' gives the next 04:00 UTC", () => {
      const daily = { cron: '0 4 * * *' };
      expect(nextTick(daily, at('2025-03-10T03:59:59.500Z')).toISOString()).toBe('2025-03-10T04:00:00.000Z');
      expect(nextTick(daily, at('2025-03-10T04:00:00.000Z')).toISOString()).toBe('2025-03-11T04:00:00.000Z');
      expect(nextTick(daily, at('2025-03-10T12:00:00.000Z')).toISOString()).toBe('2025-03-11T04:00:00.000Z');
      expect(nextTick(daily, at('2025-12-31T23:00:00.000Z')).toISOString()).toBe('2026-01-01T04:00:00.000Z');
    });

    it("'*/5 * * * *' gives the next five-minute mark", () => {
      const every5 = { cron: '*/5 * * * *' };
      expect(nextTick(every5, at('2025-03-10T12:31:10.000Z')).toISOString()).toBe('2025-03-10T12:35:00.000Z');
      expect(nextTick(every5, at('2025-03-10T12:35:00.000Z')).toISOString()).toBe('2025-03-10T12:40:00.000Z');
      expect(nextTick(every5, at('2025-03-10T23:58:00.000Z')).toISOString()).toBe('2025-03-11T00:00:00.000Z');
    });
  });
});
