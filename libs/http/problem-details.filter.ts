import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { FieldError, PROBLEM_CONTENT_TYPE, ProblemDetails, problemType, statusTitle } from './problem-details';

/** Thrown by CalmOps code that wants a specific problem type or extension members. */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    detail: string,
    readonly extras: { slug?: string; title?: string; errors?: FieldError[]; [key: string]: unknown } = {},
  ) {
    super(detail, status);
  }
}

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  message?: string;
}

/** Maps errors raised by Express' body parsers (before Nest routing) to their 4xx status. */
function bodyParserStatus(err: unknown): number | undefined {
  // Anything may be thrown, including null and undefined.
  if (typeof err !== 'object' || err === null) return undefined;
  switch ((err as BodyParserError).type) {
    case 'entity.too.large':
      return 413;
    case 'entity.parse.failed':
    case 'request.aborted':
    case 'request.size.invalid':
      return 400;
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 415;
    default: {
      // A body that cannot be read (e.g. a broken gzip or brotli stream): the parser marks it
      // as a client error (http-errors, exposed) without a type of its own.
      const { status, expose } = err as BodyParserError;
      return expose && typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
    }
  }
}

/** SQLSTATE classes and codes, and socket errors, that mean the database is away, not that the request is wrong. */
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection error|not queryable|query runner was already released|Query runner already released|Cannot use a pool after calling end|timeout exceeded when trying to connect|terminating connection due to administrator command|the database system is (starting up|shutting down)/i;

/**
 * Whether an error is the database being unreachable for a moment (a restart, a failover, a
 * dropped connection): a 503 the client may retry, not a 500. Checks the error, the driver
 * error TypeORM wraps, and an error's cause.
 */
export function databaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 3; depth++) {
    const { code, message, driverError } = e as { code?: unknown; message?: unknown; driverError?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    e = driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

function detailOf(response: string | object, fallback: string): string {
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return fallback;
}

/** The single place errors become responses: RFC 9457 JSON, never a stack trace. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request & { id?: string }>();
    const res = ctx.getResponse<Response>();
    const problem = this.toProblem(exception, req);
    // 503 is an expected state (database away, shutting down), not a defect. When it was read
    // from an error (rather than thrown as a 503), the error is logged too, so that a defect
    // that looks like a lost connection still shows what it was.
    if (problem.status === 503)
      this.logger.warn(
        exception instanceof HttpException
          ? { request_id: problem.request_id }
          : { err: exception, request_id: problem.request_id },
        problem.detail,
      );
    else if (problem.status >= 500)
      this.logger.error({ err: exception, request_id: problem.request_id }, 'request failed');
    if (res.headersSent) return;
    if (problem.status === 503 && !res.getHeader('Retry-After')) res.setHeader('Retry-After', '1');
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  toProblem(exception: unknown, req: Request & { id?: string }): ProblemDetails {
    const base = { instance: req.originalUrl ?? req.url, request_id: req.id ? String(req.id) : undefined };
    if (exception instanceof ProblemException) {
      const { slug, title, ...extensions } = exception.extras;
      const status = exception.getStatus();
      return {
        type: problemType(status, slug),
        title: title ?? statusTitle(status),
        status,
        detail: exception.message,
        ...base,
        ...extensions,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const errors = typeof response === 'object' ? (response as { errors?: FieldError[] }).errors : undefined;
      return {
        type: problemType(status),
        title: statusTitle(status),
        status,
        detail: detailOf(response, statusTitle(status)),
        ...base,
        ...(errors ? { errors } : {}),
      };
    }
    const parserStatus = bodyParserStatus(exception);
    if (parserStatus) {
      const message = (exception as BodyParserError).message;
      const detail =
        parserStatus === 413
          ? 'The request body is larger than this server accepts.'
          : typeof message === 'string' && message
            ? message
            : statusTitle(parserStatus);
      return {
        type: problemType(parserStatus),
        title: statusTitle(parserStatus),
        status: parserStatus,
        detail,
        ...base,
      };
    }
    if (databaseUnavailable(exception)) {
      return {
        type: problemType(503),
        title: statusTitle(503),
        status: 503,
        detail: 'The database is unavailable for a moment (restart or failover); retry shortly.',
        ...base,
      };
    }
    return {
      type: problemType(500),
      title: statusTitle(500),
      status: 500,
      detail: 'An unexpected error occurred. Quote the request id when reporting it.',
      ...base,
    };
  }
}
