/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  // The suite mostly waits (copies, stack operations, child processes), so three workers on two cores finish it in
  // about half the time of jest's default (cores - 1, which on two cores is one: in band).
  maxWorkers: 3,
  // Bundles the handler zip and the CLIs from the sources, so `npm test` needs no prior build.
  globalSetup: '<rootDir>/test/global-setup.ts',
};
