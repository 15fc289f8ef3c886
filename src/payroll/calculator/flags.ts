import type { Flag, FlagCode, FlagSeverity, PayLine } from './types';

/**
 * Blocking flags hold a line (computed, shown, but not paid until someone fixes the data);
 * warnings are paid and only draw attention. Keeping the split in one table means severity can
 * never disagree between the place a flag is raised and the place it is counted.
 */
export const FLAG_SEVERITY: Readonly<Record<FlagCode, FlagSeverity>> = {
  MISSING_QUANTITY: 'blocking',
  MISSING_REVENUE: 'blocking',
  MISSING_RATE: 'blocking',
  DUPLICATE_TICKET: 'blocking',
  ZERO_AMOUNT: 'warning',
  EXCESSIVE_HOURS: 'warning',
  QUANTITY_OUTLIER: 'warning',
  NET_SHORTFALL: 'warning',
};

/** Canonical order, so a line's flags compare equal however they were accumulated. */
const FLAG_ORDER: readonly FlagCode[] = Object.keys(FLAG_SEVERITY) as FlagCode[];

export function flag(code: FlagCode): Flag {
  return { code, severity: FLAG_SEVERITY[code] };
}

/** Union of existing flags and new codes, deduplicated and in canonical order. */
export function mergeFlags(existing: readonly Flag[], codes: readonly FlagCode[]): Flag[] {
  const present = new Set<FlagCode>([...existing.map((f) => f.code), ...codes]);
  return FLAG_ORDER.filter((code) => present.has(code)).map(flag);
}

export function hasBlocking(flags: readonly Flag[]): boolean {
  return flags.some((f) => f.severity === 'blocking');
}

export interface FinalizeOptions {
  /** Salary drivers' ticket lines are zero by design, so a zero there is not news. */
  zeroAmountExempt?: boolean;
}

/**
 * Derives `held` from the blocking flags and adds ZERO_AMOUNT, so every producer of lines
 * (tickets, overtime, salary) applies the same two rules.
 */
export function finalizeLine(
  line: Omit<PayLine, 'held' | 'flags'>,
  codes: readonly FlagCode[],
  options: FinalizeOptions = {},
): PayLine {
  const flags = mergeFlags([], codes);
  const held = hasBlocking(flags);
  const zero = !held && line.amountCents === 0 && !options.zeroAmountExempt;
  return { ...line, held, flags: zero ? mergeFlags(flags, ['ZERO_AMOUNT']) : flags };
}

export function countFlags(flags: readonly Flag[], into: { blocking: number; warning: number }): void {
  for (const f of flags) {
    into[f.severity] += 1;
  }
}
