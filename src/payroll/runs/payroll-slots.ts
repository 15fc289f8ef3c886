import type { DataSource } from 'typeorm';

/**
 * Frees dispatch slots whose run is no longer running (optionally only the slots of one run).
 * The slot rows are locked first (FOR UPDATE SKIP LOCKED: a claim in progress holds its slot),
 * and only then is each run's status read, in a later statement that sees every committed
 * claim. A single UPDATE … WHERE NOT EXISTS (running) would re-check a concurrently claimed
 * slot against a stale view of the runs table and could free the slot of a running run.
 */
export async function releaseStaleSlots(system: DataSource, runId?: string): Promise<number> {
  return system.transaction(async (m) => {
    const slots = (await m.query(
      `SELECT slot_no, run_id FROM payroll_slots
       WHERE run_id IS NOT NULL AND ($1::uuid IS NULL OR run_id = $1::uuid) FOR UPDATE SKIP LOCKED`,
      [runId ?? null],
    )) as { slot_no: number; run_id: string }[];
    if (!slots.length) return 0;
    const running = new Set(
      (
        (await m.query(`SELECT id FROM payroll_runs WHERE id = ANY($1::uuid[]) AND status = 'running'`, [
          slots.map((s) => s.run_id),
        ])) as { id: string }[]
      ).map((r) => r.id),
    );
    const stale = slots.filter((s) => !running.has(s.run_id)).map((s) => s.slot_no);
    if (stale.length) {
      await m.query(`UPDATE payroll_slots SET run_id = NULL, claimed_at = NULL WHERE slot_no = ANY($1::int[])`, [
        stale,
      ]);
    }
    return stale.length;
  });
}
