export * from './maintenance-task.decorator';
export * from './task-registry.service';
export * from './tasks.module';
