export * from './clock';
export * from './core.module';
export * from './lifecycle.service';
export * from './production-checks';
export * from './public.decorator';
export * from './readiness-registry';
