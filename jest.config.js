/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  // Bundles the handler zip and the CLIs from the sources, so `npm test` needs no prior build.
  globalSetup: '<rootDir>/test/global-setup.ts',
};
