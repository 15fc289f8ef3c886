import { SetMetadata } from '@nestjs/common';

export const MAINTENANCE_TASK = Symbol('MAINTENANCE_TASK');

export interface MaintenanceTaskMetadata {
  name: string;
  description: string;
}

/** Parsed `--flag value` / `--flag` arguments of `task <name>`. */
export type TaskFlags = Record<string, string | true>;

/**
 * What a task prints and whether it succeeded: the runner prints `output` (one JSON line when it
 * is an object) and exits 0 when ok, 1 otherwise.
 */
export interface TaskResult {
  ok: boolean;
  output: unknown;
}

/** Marks a method as `task <name>`, run once by `node dist/src/main.js task <name>`. */
export const MaintenanceTask = (name: string, description: string): MethodDecorator =>
  SetMetadata<symbol, MaintenanceTaskMetadata>(MAINTENANCE_TASK, { name, description });
