import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import { AppConfig } from '../config';
import type { AppRole } from '../config';
import { logDestination } from './log-output';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * Accepts a caller's X-Request-Id when it is sane, otherwise makes one; echoes it back. Asked
 * twice for one request (the request observer, then the logger), it answers the same id.
 */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const known = (req as IncomingMessage & { id?: unknown }).id;
  if (typeof known === 'string') return known;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * An error as a log line shows it: type, message, code, stack, and the driver error's code and
 * message; never the SQL parameters a failing query carries (TypeORM puts them on the error, and
 * they may hold a key, a token or a customer's data), the query text, or PostgreSQL's `detail`
 * (which quotes the values of a violated key).
 */
export function logError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const {
    parameters: _parameters,
    query: _query,
    detail: _detail,
    driverError,
    ...rest
  } = stdSerializers.err(err) as Record<string, unknown> & { driverError?: { code?: unknown; message?: unknown } };
  return driverError ? { ...rest, driverError: { code: driverError.code, message: driverError.message } } : rest;
}

/**
 * Structured logs (JSON, or pretty lines on a terminal: LOG_FORMAT); credentials never reach a
 * log line. The task role logs to stderr: its stdout is the task's result alone.
 */
export function loggerParams(config: AppConfig, role: AppRole): Params {
  const destination = logDestination(config.get('LOG_FORMAT'), role === 'task' ? 'stderr' : 'stdout');
  return {
    pinoHttp: [
      {
        level: config.get('LOG_LEVEL'),
        base: { service: 'calmops' },
        genReqId: requestIdFor,
        customAttributeKeys: { reqId: 'request_id' },
        redact: {
          paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'],
          censor: '[redacted]',
        },
        autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
        serializers: {
          // The path only: a query string may carry what must not be logged.
          req: (req: { id: string; method: string; url: string }) => ({
            id: req.id,
            method: req.method,
            url: req.url.split('?')[0],
          }),
          res: (res: { statusCode: number }) => ({ status_code: res.statusCode }),
          err: logError,
        },
      },
      destination,
    ],
  };
}
