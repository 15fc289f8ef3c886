import pino from 'pino';

/** Logs before (and outside) the Nest container: config errors, embedded database, shutdown. */
export const bootLogger = pino({ base: { service: 'calmops' }, level: process.env.LOG_LEVEL ?? 'info' });

/** Plain lines for the person at the terminal (where to click), beside the JSON logs. */
export function announce(lines: string[]): void {
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}
