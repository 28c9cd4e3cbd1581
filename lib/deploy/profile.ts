/**
 * What the deploy helper reads from the aliyun CLI's configuration (`~/.aliyun/config.json`): whether a profile
 * exists, and its region. Its credentials are read by `@alicloud/credentials` (see `connection.ts`).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface AliyunConfig {
  current?: string;
  profiles?: { name?: unknown; region_id?: unknown }[];
}

const configFile = (home: string) => path.join(home, '.aliyun', 'config.json');

/**
 * Why the aliyun CLI profile `name` cannot be used because it does not exist (no `~/.aliyun/config.json`, or no
 * profile of that name in it), or undefined when it exists.
 */
export function missingProfile(name: string, home: string = os.homedir()): string | undefined {
  const file = configFile(home);
  const create = `Create it with \`aliyun configure --profile ${name}\``;
  let config: AliyunConfig;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8')) as AliyunConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return `The aliyun CLI profile "${name}" does not exist: there is no ${file}. ${create}.`;
    }
    return undefined; // unreadable or broken: the credentials provider says how
  }
  const names = (Array.isArray(config?.profiles) ? config.profiles : [])
    .map((p) => p?.name)
    .filter((n): n is string => typeof n === 'string');
  if (names.includes(name)) {
    return undefined;
  }
  return (
    `The aliyun CLI profile "${name}" does not exist in ${file} ` +
    `(profiles there: ${names.join(', ') || 'none'}). ${create}, or pass one of those.`
  );
}

/**
 * The `region_id` of an aliyun CLI profile: `profile`, else `ALIBABA_CLOUD_PROFILE`, else the configuration's
 * current one; undefined when there is none (or no readable configuration).
 */
export function profileRegion(env: NodeJS.ProcessEnv, profile?: string): string | undefined {
  try {
    const config = JSON.parse(fs.readFileSync(configFile(env.HOME ?? os.homedir()), 'utf8')) as AliyunConfig;
    const name = profile ?? env.ALIBABA_CLOUD_PROFILE ?? config.current;
    const region = config.profiles?.find((p) => p.name === name)?.region_id;
    return typeof region === 'string' && region !== '' ? region : undefined;
  } catch {
    return undefined;
  }
}
