import { BadRequestException, NotFoundException } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemDetailsFilter, ProblemException } from './problem-details.filter';

type Req = Request & { id?: string };

function request(overrides: Partial<Record<'originalUrl' | 'url' | 'id', string>> = {}): Req {
  return { originalUrl: '/v1/employees/42?expand=payroll', url: '/employees/42', id: 'req-123', ...overrides } as Req;
}

const TYPE_BASE = 'https://calmops.dev/problems/';

describe('ProblemDetailsFilter.toProblem', () => {
  const filter = new ProblemDetailsFilter();

  it('maps a NotFoundException to a 404 problem', () => {
    expect(filter.toProblem(new NotFoundException('Employee 42 not found'), request())).toEqual({
      type: `${TYPE_BASE}not-found`,
      title: 'Not Found',
      status: 404,
      detail: 'Employee 42 not found',
      instance: '/v1/employees/42?expand=payroll',
      request_id: 'req-123',
    });
  });

  it('uses the status title as detail for a bare NotFoundException', () => {
    const problem = filter.toProblem(new NotFoundException(), request());
    expect(problem.status).toBe(404);
    expect(problem.detail).toBe('Not Found');
  });

  it('keeps the field errors of a BadRequestException', () => {
    const errors = [
      { field: 'email', message: 'must be an email' },
      { field: 'hired_on', message: 'must be a date' },
    ];
    const problem = filter.toProblem(
      new BadRequestException({ message: 'The request has invalid fields.', errors }),
      request(),
    );
    expect(problem).toEqual({
      type: `${TYPE_BASE}bad-request`,
      title: 'Bad Request',
      status: 400,
      detail: 'The request has invalid fields.',
      instance: '/v1/employees/42?expand=payroll',
      request_id: 'req-123',
      errors,
    });
  });

  it('joins a list of messages into the detail', () => {
    const problem = filter.toProblem(new BadRequestException(['name is empty', 'plan is unknown']), request());
    expect(problem.detail).toBe('name is empty; plan is unknown');
    expect(problem).not.toHaveProperty('errors');
  });

  it('maps a body-parser "entity.too.large" error to 413', () => {
    const err = Object.assign(new Error('request entity too large'), {
      type: 'entity.too.large',
      status: 413,
      expose: true,
      limit: 1024,
      length: 4096,
    });
    const problem = filter.toProblem(err, request());
    expect(problem).toMatchObject({ type: `${TYPE_BASE}payload-too-large`, title: 'Payload Too Large', status: 413 });
    expect(problem.detail).toBe('The request body is larger than this server accepts.');
    expect(filter.toProblem({ type: 'entity.too.large', status: 413 }, request()).status).toBe(413);
  });

  it('maps a body-parser "entity.parse.failed" error to 400', () => {
    const problem = filter.toProblem({ type: 'entity.parse.failed' }, request());
    expect(problem).toMatchObject({ type: `${TYPE_BASE}bad-request`, title: 'Bad Request', status: 400 });
    expect(typeof problem.detail).toBe('string');

    const withMessage = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), {
      type: 'entity.parse.failed',
      status: 400,
    });
    expect(filter.toProblem(withMessage, request())).toMatchObject({
      status: 400,
      detail: 'Unexpected token } in JSON at position 9',
    });
  });

  it('maps an unsupported charset to 415', () => {
    expect(
      filter.toProblem({ type: 'charset.unsupported', message: 'unsupported charset "X"' }, request()).status,
    ).toBe(415);
  });

  it('hides the message and stack of an unexpected Error behind a generic 500', () => {
    const err = new Error('connect ECONNREFUSED postgres://calmops_app:hunter2@db:5432');
    const problem = filter.toProblem(err, request());
    expect(problem).toMatchObject({
      type: `${TYPE_BASE}internal-error`,
      title: 'Internal Server Error',
      status: 500,
      instance: '/v1/employees/42?expand=payroll',
      request_id: 'req-123',
    });
    const json = JSON.stringify(problem);
    expect(json).not.toContain('ECONNREFUSED');
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain(err.stack!.split('\n')[1].trim());
    expect(problem).not.toHaveProperty('stack');
    expect(problem.detail).toMatch(/request id/i);
  });

  it.each([null, undefined, 'boom', 42])('maps a thrown non-error %p to a generic 500', (thrown) => {
    const problem = filter.toProblem(thrown, request());
    expect(problem.status).toBe(500);
    expect(JSON.stringify(problem)).not.toContain('boom');
  });

  it('uses the slug, title and extension members of a ProblemException', () => {
    const problem = filter.toProblem(
      new ProblemException(409, 'A pay run for March 2025 is already open.', {
        slug: 'pay-run-open',
        pay_run_id: 'pr_1',
        retry_after_seconds: 30,
      }),
      request(),
    );
    expect(problem).toEqual({
      type: `${TYPE_BASE}pay-run-open`,
      title: 'Conflict',
      status: 409,
      detail: 'A pay run for March 2025 is already open.',
      instance: '/v1/employees/42?expand=payroll',
      request_id: 'req-123',
      pay_run_id: 'pr_1',
      retry_after_seconds: 30,
    });
    expect(problem).not.toHaveProperty('slug');
  });

  it('uses a custom title and the default type of a ProblemException without slug', () => {
    const problem = filter.toProblem(
      new ProblemException(422, 'Bad period.', { title: 'Invalid pay period' }),
      request(),
    );
    expect(problem).toMatchObject({
      type: `${TYPE_BASE}unprocessable-content`,
      title: 'Invalid pay period',
      status: 422,
    });
    expect(problem).not.toHaveProperty('title', 'Unprocessable Entity');
  });

  it('copies instance and request_id from the request', () => {
    const problem = filter.toProblem(new NotFoundException(), request({ originalUrl: '/v1/x', id: 'abc' }));
    expect(problem.instance).toBe('/v1/x');
    expect(problem.request_id).toBe('abc');

    const bare = { url: '/health/ready' } as Req;
    const fallback = filter.toProblem(new NotFoundException(), bare);
    expect(fallback.instance).toBe('/health/ready');
    expect(fallback.request_id).toBeUndefined();
  });

  it('answers 503 (retry) when the database is away for a moment, 500 for anything else', () => {
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const wrapped = Object.assign(new Error('query failed'), { driverError: shutdown });
    for (const err of [
      shutdown,
      wrapped,
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      new Error('Client was closed and is not queryable'),
      // TypeORM, when the transaction's connection died under it (seen in the chaos run).
      new Error(
        'Database connection provided by a query runner was already released, cannot continue to use its querying methods anymore.',
      ),
      new Error('Query runner already released. Cannot run queries anymore.'),
      new Error('commit failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
    ]) {
      expect(filter.toProblem(err, request())).toMatchObject({ status: 503, title: 'Service Unavailable' });
    }
    for (const err of [
      new Error('boom'),
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
    ]) {
      expect(filter.toProblem(err, request()).status).toBe(500);
    }
  });
});
