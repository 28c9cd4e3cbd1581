/**
 * The shape of a parsed, checked ROS template (format version 2015-09-01): its sections and the definitions of its
 * parameters, resources, outputs and rules. Types only, shared by the template language's modules (`template.ts`
 * parses and resolves, `graph.ts` orders resources) so that neither imports the other for them.
 */
import type { Mappings } from './intrinsics';

export const TEMPLATE_FORMAT_VERSION = '2015-09-01';

/** A parsed, checked template. Sections are always present; `DependsOn` is always a list. */
export interface Template {
  readonly ROSTemplateFormatVersion: typeof TEMPLATE_FORMAT_VERSION;
  readonly Description?: string;
  readonly Metadata?: Readonly<Record<string, unknown>>;
  readonly Parameters: Readonly<Record<string, ParameterDefinition>>;
  readonly Mappings: Mappings;
  readonly Conditions: Readonly<Record<string, unknown>>;
  readonly Resources: Readonly<Record<string, ResourceDefinition>>;
  readonly Outputs: Readonly<Record<string, OutputDefinition>>;
  readonly Rules: Readonly<Record<string, RuleDefinition>>;
}

export type ParameterType = 'String' | 'Number' | 'CommaDelimitedList' | 'Json' | 'Boolean';

export interface ParameterDefinition {
  /** One of `ParameterType`, or an `ALIYUN::OOS::...` type (treated as String). */
  readonly Type: string;
  readonly Default?: unknown;
  readonly AllowedValues?: readonly unknown[];
  readonly AllowedPattern?: string;
  readonly MinLength?: number;
  readonly MaxLength?: number;
  readonly MinValue?: number;
  readonly MaxValue?: number;
  readonly NoEcho?: boolean;
  readonly Description?: unknown;
  readonly ConstraintDescription?: unknown;
  readonly Label?: unknown;
  /** Other keys (AssociationProperty, Confirm, ...) only shape the ROS console and are kept as given. */
  readonly [key: string]: unknown;
}

export interface ResourceDefinition {
  readonly Type: string;
  readonly Properties: Readonly<Record<string, unknown>>;
  readonly DependsOn: readonly string[];
  readonly Condition?: string;
  readonly DeletionPolicy?: 'Delete' | 'Retain';
  readonly Metadata?: Readonly<Record<string, unknown>>;
  readonly Description?: unknown;
}

export interface OutputDefinition {
  readonly Value: unknown;
  readonly Description?: unknown;
  readonly Condition?: string;
  readonly NoEcho?: boolean;
  readonly Label?: unknown;
}

export interface RuleDefinition {
  readonly RuleCondition?: unknown;
  readonly Assertions: readonly { readonly Assert: unknown; readonly AssertDescription?: unknown }[];
}
