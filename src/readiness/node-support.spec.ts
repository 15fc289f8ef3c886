import { nodeSupport } from './node-support';

const day = (d: string) => new Date(`${d}T12:00:00Z`);

describe('nodeSupport', () => {
  it('passes an active or maintenance LTS far from its end of life', () => {
    expect(nodeSupport('24.22.3', day('2026-06-01'))).toMatchObject({ verdict: 'pass', status: 'active_lts' });
    expect(nodeSupport('v22.11.0', day('2026-01-10'))).toMatchObject({ verdict: 'pass', status: 'maintenance_lts' });
  });

  it('warns within 90 days of the end of life, fails from that day on', () => {
    expect(nodeSupport('20.20.2', day('2026-02-15'))).toMatchObject({ verdict: 'warn', days_to_end_of_life: 73 });
    expect(nodeSupport('20.20.2', day('2026-04-30'))).toMatchObject({ verdict: 'fail', status: 'end_of_life' });
    expect(nodeSupport('20.20.2', day('2026-12-04'))).toMatchObject({ verdict: 'fail', end_of_life: '2026-04-30' });
  });

  it('warns on an even line before it becomes LTS, fails on odd lines and old unlisted ones', () => {
    expect(nodeSupport('26.0.0', day('2026-05-01'))).toMatchObject({ verdict: 'warn', status: 'current' });
    expect(nodeSupport('25.1.0', day('2026-01-01'))).toMatchObject({ verdict: 'fail', status: 'not_lts' });
    expect(nodeSupport('16.20.0', day('2026-01-01'))).toMatchObject({ verdict: 'fail', status: 'not_lts' });
  });

  it('warns on an even line newer than the schedule it knows', () => {
    expect(nodeSupport('28.0.0', day('2028-06-01'))).toMatchObject({ verdict: 'warn', status: 'unknown' });
  });
});
