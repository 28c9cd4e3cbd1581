/**
 * What the CLIs share: the errors that decide their exit code 2 (a mistake in the command line, or in the project
 * or environment), quoting user values in messages, and the {@link CLI_WORDING} that names the library's options as
 * `ros-deploy`'s flags and commands.
 */
import * as fs from 'fs';
import * as path from 'path';
import { quote, type Wording } from '../deploy/errors';
import { packageRoot } from '../package-root';

export { quote };

/** A mistake in how a command was called (unknown command or flag, bad flag value): exit code 2, with the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A problem with the project or the environment rather than with the command line (no region, no app, a broken
 * cdk.json, an unknown profile, a stack that is not there): exit code 2, the message alone, without the usage.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The library's options and operations as `ros-deploy` spells them. */
export const CLI_WORDING: Wording = {
  optionNoun: 'flag',
  option(name, detail = {}) {
    switch (name) {
      case 'regionId':
        return `--region ${detail.value ?? 'REGION'}`;
      case 'stackRegions':
        return `--region ${detail.stackName ?? 'STACK'}:${detail.value ?? 'REGION'}`;
      case 'parameters':
        return `\`--parameters ${detail.stackName ?? 'STACK'}:${detail.key ?? 'KEY'}=…\``;
      case 'profile':
        return '--profile NAME';
      case 'local':
        return '--local';
      case 'app':
        return '--app';
      case 'outdir':
        return '-o';
      case 'stackNames':
        return 'STACKS';
      case 'force':
        return '--force';
    }
  },
  command: (command, stackName) => `\`ros-deploy ${command} ${stackName}\``,
};

/** The version of this package, which `--version` prints. */
export function packageVersion(): string {
  return (
    JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version;
}
