export * from './configure-http-app';
export * from './content-type.guard';
export * from './http.module';
export * from './problem-details';
export * from './problem-details.filter';
export * from './swagger';
export * from './validation';
