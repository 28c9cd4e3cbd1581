/** Reading a template body as ROS stores and returns it. */
import { parse as parseYaml } from 'yaml';

/** Parses a template body as ROS stores it: JSON or YAML, optionally `@Base64Encoded: `-prefixed. */
export function parseTemplateBody(body: string): Record<string, unknown> {
  const prefix = '@Base64Encoded: ';
  const text = body.startsWith(prefix)
    ? Buffer.from(body.slice(prefix.length), 'base64').toString('utf8')
    : body;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return (parseYaml(text) ?? {}) as Record<string, unknown>;
  }
}
