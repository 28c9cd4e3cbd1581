import * as fs from 'fs';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy } from '../lib';
import { MAX_TEMPLATE_BODY_BYTES, templateSizeWarning } from '../lib/template-size';
import { newApp } from './construct/template';

/** Synthesizes an app with one stack of `copies` ImageCopy constructs, each with 19 tags of 128 + 128 characters. */
function synthesizeCopies(copies: number) {
  const app = newApp();
  const stack = new ros.Stack(app, 'Copies', { env: { region: 'cn-hangzhou' } });
  const tags = Object.fromEntries(
    Array.from({ length: 19 }, (_, i) => [
      `${String(i).padStart(2, '0')}${'k'.repeat(126)}`,
      'v'.repeat(128),
    ]),
  );
  for (let i = 0; i < copies; i++) {
    new ImageCopy(stack, `Copy${i}`, {
      sourceImageId: 'm-bp1seedgoldenimage01',
      sourceRegionId: 'cn-beijing',
      imageName: `copy-${i}`,
      tags,
    });
  }
  const assembly = app.synth();
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'manifest.json'), 'utf8'));
  const metadata = (manifest.artifacts.Copies.metadata ?? {}) as Record<
    string,
    { type: string; data: unknown }[]
  >;
  const warnings = Object.values(metadata)
    .flat()
    .filter((entry) => entry.type === 'aliyun:ros:warning')
    .map((entry) => entry.data);
  const template = fs.readFileSync(path.join(assembly.directory, 'Copies.template.json'), 'utf8');
  return { warnings, bytes: Buffer.byteLength(JSON.stringify(JSON.parse(template))) };
}

describe('the size of a stack of ImageCopy constructs', () => {
  it('is a warning of the stack in the cloud assembly when its template is over ROS limit', () => {
    const { warnings, bytes } = synthesizeCopies(100);
    expect(bytes).toBeGreaterThan(MAX_TEMPLATE_BODY_BYTES);
    expect(warnings).toEqual([templateSizeWarning('Copies', bytes)]);
    expect(warnings[0]).toContain(
      `The template of stack Copies is ${bytes.toLocaleString('en-US')} bytes (JSON without indentation), ` +
        "over ROS's limit of 524,288 bytes for a template: CreateStack and UpdateStack will refuse it. Split the stack",
    );
  });

  it('says nothing when the template fits', () => {
    const { warnings, bytes } = synthesizeCopies(3);
    expect(bytes).toBeLessThan(MAX_TEMPLATE_BODY_BYTES);
    expect(warnings).toEqual([]);
  });
});
