import { deployStack, diffStack, diffTemplates, formatDiff } from '../../lib/deploy';
import type { LocalCloud } from '../../lib/local';
import { role, rolesTemplate, startCloud } from './fixtures';

describe('diffStack', () => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  beforeAll(async () => ({ cloud, fast } = await startCloud()));
  afterAll(() => cloud.stop());

  it('shows everything as added for a stack that is not deployed', async () => {
    const result = await diffStack({
      ...fast,
      stackName: 'diffed',
      template: rolesTemplate({ A: 'diff-a' }),
    });
    expect(result).toMatchObject({ exists: false, hasChanges: true });
    expect(result.changes.map((c) => `${c.kind} ${c.section} ${c.id}`)).toEqual([
      'added ROSTemplateFormatVersion ROSTemplateFormatVersion',
      'added Resources A',
      'added Outputs AArn',
    ]);
  });

  it('finds no differences right after a deploy; after an edit, what each resource undergoes and what RAM changes grant', async () => {
    await deployStack({
      ...fast,
      stackName: 'diffed',
      template: rolesTemplate({ A: 'diff-a', B: 'diff-b' }),
    });
    const same = await diffStack({
      ...fast,
      stackName: 'diffed',
      template: rolesTemplate({ A: 'diff-a', B: 'diff-b' }),
    });
    expect(same).toMatchObject({ exists: true, hasChanges: false, changes: [] });
    expect(formatDiff(same)).toBe('Stack diffed\nThere were no differences\n');

    const edited = rolesTemplate({ A: 'diff-a', C: 'diff-c' });
    (edited.Resources as Record<string, unknown>).A = role('diff-a', { Description: 'now described' });
    const result = await diffStack({ ...fast, stackName: 'diffed', template: edited });
    expect(formatDiff(result)).toBe(
      [
        'Stack diffed',
        'Resources',
        // ROS documents a role's Description as not editable (ALIYUN::RAM::Role reference).
        '[-/+] ALIYUN::RAM::Role A replaced: ROS documents Description as not editable: the update replaces the ' +
          'resource where replacement is allowed (ReplacementOption), and fails where it is not',
        '    └─ Properties.Description: (none) → "now described"',
        '    [security] RAM change',
        '[-] ALIYUN::RAM::Role B',
        '    [security] narrows permissions',
        '    [security] - trust Service fc.aliyuncs.com',
        '[+] ALIYUN::RAM::Role C',
        '    [security] broadens permissions',
        '    [security] + trust Service fc.aliyuncs.com',
        'Outputs',
        '[-] BArn',
        '[+] CArn',
        '1 to add, 0 to modify in place, 1 to replace, 1 to remove; 3 security-relevant (broadening permissions)',
        '',
      ].join('\n'),
    );
  });
});

describe('diffTemplates', () => {
  it('masks the default of a NoEcho parameter and names construct paths', () => {
    const before = { Parameters: { Password: { Type: 'String', NoEcho: true, Default: 'old-secret' } } };
    const after = {
      Parameters: {
        Password: { Type: 'String', NoEcho: true, Default: 'new-secret' },
        Size: { Type: 'Number' },
      },
      Resources: { Copy: { Type: 'ALIYUN::ROS::CustomResource', Properties: {} } },
    };
    const changes = diffTemplates(before, after, { Copy: 'App/Copy/Resource' });
    expect(JSON.stringify(changes)).not.toMatch(/old-secret|new-secret/);
    expect(changes.map((c) => `${c.kind} ${c.id} ${c.constructPath ?? ''}`.trim())).toEqual([
      'added Size',
      'added Copy App/Copy/Resource',
    ]);
  });
});
