import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
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
    const tasks: RegisteredTask[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const fn = instance[method] as (flags: TaskFlags) => Promise<TaskResult>;
        const meta = this.reflector.get<MaintenanceTaskMetadata | undefined>(MAINTENANCE_TASK, fn);
        if (meta) tasks.push({ ...meta, run: (flags) => fn.call(instance, flags) });
      }
    }
    return tasks;
  }

  find(name: string): RegisteredTask | undefined {
    return this.list().find((t) => t.name === name);
  }
}
