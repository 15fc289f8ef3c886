import { Injectable } from '@nestjs/common';
import Decimal from 'decimal.js';
import { TenantContext } from '../../../libs/database';
import { ProblemException } from '../../../libs/http';
import { QUANTITY_PLACES } from '../calculator/parse';

export const CORRECTABLE_QUANTITIES = ['hours', 'tons', 'yards', 'loads'] as const;
export type CorrectableQuantity = (typeof CORRECTABLE_QUANTITIES)[number];

export interface TicketCorrection {
  ticket_id: string;
  ticket_number: string;
  field: CorrectableQuantity;
  from: string | null;
  to: string;
}

/**
 * A ticket's quantity corrected in place (current tenant transaction), only when it still holds
 * the value the correction was drafted against: a ticket changed meanwhile is a 409, not a
 * silent overwrite. The run that paid the ticket keeps its lines; a rerun with replace pays the
 * corrected value.
 */
@Injectable()
export class TicketCorrections {
  constructor(private readonly tenant: TenantContext) {}

  async correctQuantity(
    ticketId: string,
    field: CorrectableQuantity,
    value: string,
    expectedCurrent: string | null,
  ): Promise<TicketCorrection> {
    if (!CORRECTABLE_QUANTITIES.includes(field)) throw new ProblemException(400, `${field} is not a ticket quantity.`);
    let to: Decimal;
    try {
      to = new Decimal(value);
    } catch {
      throw new ProblemException(400, `${value} is not a decimal.`);
    }
    if (to.isNegative() || to.decimalPlaces() > QUANTITY_PLACES) {
      throw new ProblemException(400, `${field} must be ≥ 0 with at most ${QUANTITY_PLACES} decimal places.`);
    }
    const m = this.tenant.manager;
    const [row] = (await m.query(
      `SELECT ticket_number, ${field}::text AS current FROM payroll_tickets WHERE id = $1 FOR UPDATE`,
      [ticketId],
    )) as { ticket_number: string; current: string | null }[];
    if (!row) throw new ProblemException(404, 'No such ticket.');
    const same = (a: string | null, b: string | null) =>
      a === null || b === null ? a === b : new Decimal(a).equals(new Decimal(b));
    if (!same(row.current, expectedCurrent)) {
      throw new ProblemException(409, `The ticket's ${field} changed since the correction was drafted.`, {
        current: row.current,
        expected: expectedCurrent,
      });
    }
    await m.query(`UPDATE payroll_tickets SET ${field} = $2 WHERE id = $1`, [ticketId, to.toFixed(QUANTITY_PLACES)]);
    return {
      ticket_id: ticketId,
      ticket_number: row.ticket_number,
      field,
      from: row.current,
      to: to.toFixed(QUANTITY_PLACES),
    };
  }
}
