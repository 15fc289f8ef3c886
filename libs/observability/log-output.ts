import type { DestinationStream } from 'pino';
import pino from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Where log lines go and how they look. JSON by default (what log shippers read); short
 * human-readable lines when asked (LOG_FORMAT=pretty) or, with LOG_FORMAT=auto, when the output
 * is a terminal. Tasks print their result on stdout, so their logs go to stderr. Synchronous
 * either way: no worker thread that could drop the last lines at exit.
 */
export function logDestination(format: LogFormat, stream: 'stdout' | 'stderr'): DestinationStream {
  const fd = stream === 'stdout' ? 1 : 2;
  const terminal = (stream === 'stdout' ? process.stdout : process.stderr).isTTY === true;
  if (format === 'pretty' || (format === 'auto' && terminal)) {
    return pretty({
      destination: fd,
      sync: true,
      colorize: terminal,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service,req,res,responseTime',
      messageFormat: '{if context}[{context}] {end}{msg}',
      singleLine: true,
    });
  }
  return pino.destination({ fd, sync: true });
}
