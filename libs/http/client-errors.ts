import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, problemType, statusTitle } from './problem-details';

/**
 * Requests Node's HTTP parser refuses before any framework sees them (headers too large, a NUL
 * or bare LF in a header, a broken request line) are still answered as problem+json, and the
 * connection is closed, as Node's default answer does.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_REQUEST_TIMEOUT' ? 408 : 400;
  const detail =
    status === 431
      ? 'The request headers are larger than this server accepts.'
      : status === 408
        ? 'The request took too long to arrive.'
        : 'The request is malformed (its request line or a header is not valid HTTP).';
  const body = JSON.stringify({ type: problemType(status), title: statusTitle(status), status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${statusTitle(status)}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
