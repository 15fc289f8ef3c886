/** Four projects: unit tests beside the code; service, e2e and security tests on a real PostgreSQL. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };

// E2E files spend most of their time waiting on PostgreSQL and child processes, so two
// workers beat one even on 2 CPUs (measured: 2m48s against 4m36s); more cores, more workers.
const maxWorkers = Math.max(2, Math.floor(require('node:os').availableParallelism() / 2));

module.exports = {
  maxWorkers,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/src', '<rootDir>/libs', '<rootDir>/test/unit'],
      testMatch: ['**/*.spec.ts'],
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/e2e-setup.ts'],
    },
    {
      displayName: 'service',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test/service'],
      testMatch: ['**/*.service-spec.ts'],
      transform,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/e2e-setup.ts'],
    },
    {
      displayName: 'security',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test/security'],
      testMatch: ['**/*.security-spec.ts'],
      transform,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/e2e-setup.ts'],
    },
  ],
};
