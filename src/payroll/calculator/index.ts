/**
 * Pure payroll arithmetic: no Nest, no database. Services load rows, map them to these inputs,
 * and persist the outputs; everything money-related is decided here.
 */
export * from './types';
export { roundHalfUpToCents } from './rounding';
export { isoWeek, periodDays } from './dates';
export { FLAG_SEVERITY } from './flags';
export { ticketLine, salaryLine } from './pay-rules';
export { overtimeLines } from './overtime';
export { aggregateFlags } from './aggregate-flags';
export { applyDeductions, compareDeductions } from './deductions';
export { driverStatement, compareLines } from './statement';
export { calculateRun } from './run-calculator';
