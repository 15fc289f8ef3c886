import pino from 'pino';
import { LOG_FORMATS, LOG_LEVELS } from '../../libs/config';
import type { LogFormat } from '../../libs/observability';
import { logDestination } from '../../libs/observability';

// Read before the config is validated: a bad LOG_LEVEL must reach the validation message.
const level = (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL : 'info';
const format = (
  (LOG_FORMATS as readonly string[]).includes(process.env.LOG_FORMAT ?? '') ? process.env.LOG_FORMAT : 'auto'
) as LogFormat;
// A task's stdout is its result alone (e.g. `… task create-org | jq .api_key`).
const isTask = process.argv[2] === 'task' || (process.argv[2] === undefined && process.env.APP_ROLE === 'task');

/** Logs before (and outside) the Nest container: config errors, embedded database, shutdown. */
export const bootLogger = pino(
  { base: { service: 'calmops' }, level },
  logDestination(format, isTask ? 'stderr' : 'stdout'),
);

/** Plain lines for the person at the terminal (where to click), beside the logs. */
export function announce(lines: string[]): void {
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}
