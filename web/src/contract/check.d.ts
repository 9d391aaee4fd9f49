/** One configuration field as the generated contract states it (a subset of JSON Schema). */
export interface FieldRule {
  readonly type?: string | readonly string[];
  readonly enum?: readonly (string | number | boolean | null)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
}

export type FieldProblem =
  | { kind: 'required' }
  | { kind: 'enum'; values: (string | number | boolean)[] }
  | { kind: 'number' }
  | { kind: 'integer' }
  | { kind: 'range'; min: number | null; max: number | null }
  | { kind: 'minLength'; min: number }
  | { kind: 'maxLength'; max: number }
  | { kind: 'pattern'; pattern: string };

export function charCount(text: string): number;
export function fieldProblem(rule: FieldRule, value: unknown): FieldProblem | null;
