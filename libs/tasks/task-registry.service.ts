import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { findDecoratedMethods } from '../discovery';
import { MAINTENANCE_TASK, MaintenanceTaskMetadata, TaskFlags, TaskResult } from './maintenance-task.decorator';

export interface RegisteredTask extends MaintenanceTaskMetadata {
  run: (flags: TaskFlags) => Promise<TaskResult>;
}

@Injectable()
export class TaskRegistry {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  list(): RegisteredTask[] {
    return findDecoratedMethods<MaintenanceTaskMetadata>(
      this.discovery,
      this.scanner,
      this.reflector,
      MAINTENANCE_TASK,
    ).map(({ meta, call }) => ({ ...meta, run: (flags: TaskFlags) => call(flags) as Promise<TaskResult> }));
  }

  find(name: string): RegisteredTask | undefined {
    return this.list().find((t) => t.name === name);
  }
}
