/**
 * Other features ask "is there an open critical incident?" before starting heavy work (payroll
 * runs pause their dispatch while one is open). The incidents feature provides the answer under
 * this token; without a provider the answer is "none".
 */
export const CRITICAL_INCIDENTS = Symbol('CRITICAL_INCIDENTS');

export interface CriticalIncidentProvider {
  /** Titles of open critical incidents (empty when none). */
  openCriticalIncidents(): Promise<string[]>;
}
