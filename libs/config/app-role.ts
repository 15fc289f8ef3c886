export const APP_ROLES = ['api', 'worker', 'all', 'task'] as const;
export type AppRole = (typeof APP_ROLES)[number];

/** Injection token of the role this process runs as. */
export const APP_ROLE = Symbol('APP_ROLE');

/** Only worker processes consume queues and run cluster cron. */
export function runsJobs(role: AppRole): boolean {
  return role === 'worker' || role === 'all';
}

export function servesApi(role: AppRole): boolean {
  return role === 'api' || role === 'all';
}
