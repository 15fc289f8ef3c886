import pino from 'pino';
import { LOG_LEVELS } from '../../libs/config';

// Read before the config is validated: a bad LOG_LEVEL must reach the validation message.
const level = (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL ?? '') ? process.env.LOG_LEVEL : 'info';

/** Logs before (and outside) the Nest container: config errors, embedded database, shutdown. */
export const bootLogger = pino({ base: { service: 'calmops' }, level });

/** Plain lines for the person at the terminal (where to click), beside the JSON logs. */
export function announce(lines: string[]): void {
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}
