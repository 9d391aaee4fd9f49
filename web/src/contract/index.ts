// The server's rules as the UI reads them: generated from the Rust rule table and constants into
// ../generated/contract.ts (ytmaker-server `web_contract`; never edit it, never copy from it).
// Forms take their ranges, choices and limits from here and check values with `fieldProblem`.

import { CONTRACT } from '../generated/contract';
import { fieldProblem, type FieldProblem, type FieldRule } from './check.js';

export { charCount, fieldProblem, type FieldProblem, type FieldRule } from './check.js';

type Config = typeof CONTRACT.config;
type Youtube = typeof CONTRACT.youtube;

/** The values a generated choice allows, as a literal type (`Choice<Config['logo.position']>`). */
type Choice<F> = F extends { readonly enum: readonly (infer V)[] } ? Exclude<V, null> : never;

export type LogoCorner = Choice<Config['logo.position']>;
export type KenBurnsMode = Choice<Config['ken_burns.mode']>;
export type StructuredOutput = Choice<Config['llm.structured_output']>;
export type Privacy = Choice<Youtube['privacy']>;
export type ScriptProvider = Choice<Config['providers.script']>;

export { CONTRACT };

/** The input limits beyond the configuration (article, names, YouTube settings, logo upload). */
export const LIMITS = CONTRACT.limits;

function ruleIn(fields: Record<string, FieldRule>, path: string): FieldRule {
  const rule = fields[path];
  if (!rule) throw new Error(`the generated contract has no field ${path}`);
  return rule;
}

/** The rule of a configuration field, by dotted path (`subtitles.font_size`). */
export function configRule(path: string): FieldRule {
  return ruleIn(CONTRACT.config, path);
}

/** A numeric field's range. */
export function rangeOf(path: string): { min: number; max: number } {
  const { minimum, maximum } = configRule(path);
  if (minimum === undefined || maximum === undefined) throw new Error(`${path} has no range in the generated contract`);
  return { min: minimum, max: maximum };
}

function choices<V>(rule: FieldRule, path: string): V[] {
  if (!rule.enum) throw new Error(`${path} has no choices in the generated contract`);
  return rule.enum.filter((v) => v !== null) as V[];
}

/** A configuration field's allowed values, in the server's order (null, for an optional choice,
 * left out). */
export function choicesOf<V extends string = string>(path: string): V[] {
  return choices<V>(configRule(path), path);
}

/** A YouTube settings field's allowed values. */
export function youtubeChoicesOf<V extends string = string>(path: string): V[] {
  return choices<V>(ruleIn(CONTRACT.youtube, path), path);
}

/** What is wrong with `value` for the configuration field `path`, or null. */
export function configProblem(path: string, value: unknown): FieldProblem | null {
  return fieldProblem(configRule(path), value);
}
