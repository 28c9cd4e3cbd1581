/**
 * ROS's limit on a stack's template, checked when the stack is synthesized: a template over it synthesizes fine and
 * fails only at CreateStack/UpdateStack, so both the constructs (a warning on the stack, in the cloud assembly) and
 * `ros-deploy synth` say so before anyone deploys.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as ros from '@alicloud/ros-cdk-core';

/** ROS's limit on `TemplateBody` (CreateStack, UpdateStack: 1 to 524,288 bytes). */
export const MAX_TEMPLATE_BODY_BYTES = 524_288;

/** The size of a template as a deploy submits it: JSON without indentation (what `ros-deploy` sends). */
export function submittedTemplateBytes(templateJson: string): number {
  try {
    return Buffer.byteLength(JSON.stringify(JSON.parse(templateJson)));
  } catch {
    return Buffer.byteLength(templateJson); // not JSON: submitted as written
  }
}

/** The warning for a template over the limit: the stack, the size, the limit and what to do. */
export function templateSizeWarning(stackName: string, bytes: number): string {
  return (
    `The template of stack ${stackName} is ${bytes.toLocaleString('en-US')} bytes (JSON without indentation), over ` +
    `ROS's limit of ${MAX_TEMPLATE_BODY_BYTES.toLocaleString('en-US')} bytes for a template: CreateStack and ` +
    `UpdateStack will refuse it. Split the stack: move some of its resources (such as ImageCopy constructs) into ` +
    `another stack, or shorten what they repeat (tags, descriptions).`
  );
}

const watched = new WeakSet<ros.Stack>();

/**
 * Has the stack check its template's size once it has written it, and record {@link templateSizeWarning} as a
 * warning of the stack (`aliyun:ros:warning` in the cloud assembly) when it is over the limit. Idempotent. The
 * pretty-printed file is measured first: only a file over the limit is parsed to measure it compact.
 */
export function watchTemplateSize(stack: ros.Stack): void {
  if (watched.has(stack)) {
    return;
  }
  watched.add(stack);
  const synthesize = stack.synthesize.bind(stack);
  stack.synthesize = (session: ros.ISynthesisSession) => {
    synthesize(session);
    const file = path.join(session.assembly.outdir, stack.templateFile);
    let written: number;
    try {
      written = fs.statSync(file).size;
    } catch {
      return; // nothing written where the ROS CDK writes it: nothing to measure
    }
    if (written <= MAX_TEMPLATE_BODY_BYTES) {
      return;
    }
    const bytes = submittedTemplateBytes(fs.readFileSync(file, 'utf8'));
    if (bytes > MAX_TEMPLATE_BODY_BYTES) {
      stack.node.addWarning(templateSizeWarning(stack.stackName, bytes));
    }
  };
}
