/** Two projects: unit tests beside the code, e2e tests on a real PostgreSQL. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };

module.exports = {
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
      globalSetup: '<rootDir>/libs/testing/global-setup.ts',
      globalTeardown: '<rootDir>/libs/testing/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/libs/testing/e2e-setup.ts'],
    },
  ],
};
