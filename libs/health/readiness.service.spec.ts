import { ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import type { AppConfig } from '../config';
import { ManualClock } from '../core';
import type { ReadinessRegistry } from '../core';
import { NOT_READY_CACHE_MS, ReadinessService } from './readiness.service';

const okResult: HealthCheckResult = { status: 'ok', info: {}, error: {}, details: {} };
const downResult: HealthCheckResult = {
  status: 'error',
  info: {},
  error: { database: { status: 'down' } },
  details: {},
};

function service(answers: ('up' | 'down' | 'throw')[]) {
  const calls = { n: 0 };
  const health = {
    check: () => {
      const answer = answers[Math.min(calls.n++, answers.length - 1)];
      if (answer === 'down') return Promise.reject(new ServiceUnavailableException(downResult));
      if (answer === 'throw') return Promise.reject(new Error('indicator crashed'));
      return Promise.resolve(okResult);
    },
  } as unknown as HealthCheckService;
  const registry = { all: () => [] } as unknown as ReadinessRegistry;
  const config = { get: () => 1000 } as unknown as AppConfig;
  const clock = new ManualClock();
  return { readiness: new ReadinessService(health, registry, config, clock), calls, clock };
}

describe('ReadinessService caching', () => {
  it('reuses a ready answer for READINESS_CACHE_MS, and no longer', async () => {
    const { readiness, calls, clock } = service(['up']);
    expect((await readiness.check()).ready).toBe(true);
    clock.advance(999);
    expect((await readiness.check()).ready).toBe(true);
    expect(calls.n).toBe(1);
    clock.advance(1);
    expect((await readiness.check()).ready).toBe(true);
    expect(calls.n).toBe(2);
  });

  it('reuses a not-ready answer only briefly, so readiness turns 200 soon after it can', async () => {
    const { readiness, calls, clock } = service(['down', 'up']);
    expect((await readiness.check()).ready).toBe(false);
    clock.advance(NOT_READY_CACHE_MS - 1);
    expect((await readiness.check()).ready).toBe(false); // within NOT_READY_CACHE_MS: reused
    expect(calls.n).toBe(1);
    clock.advance(1);
    expect((await readiness.check()).ready).toBe(true);
    expect(calls.n).toBe(2);
  });

  it('does not reuse an error', async () => {
    const { readiness, calls } = service(['throw', 'up']);
    await expect(readiness.check()).rejects.toThrow('indicator crashed');
    await new Promise((r) => setImmediate(r));
    expect((await readiness.check()).ready).toBe(true);
    expect(calls.n).toBe(2);
  });
});
