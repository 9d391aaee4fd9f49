// The web UI's check of one value against one field of the generated contract
// (../generated/contract.json, made from the server's own rules by ytmaker-server's
// `web_contract`). Plain JavaScript so that the Rust test which changes a limit can run this very
// code under Node; its types are in check.d.ts.

/** Characters as the server counts them: Unicode scalar values. */
export function charCount(text) {
  return Array.from(text).length;
}

function types(rule) {
  if (Array.isArray(rule.type)) return rule.type;
  return rule.type === undefined ? [] : [rule.type];
}

/**
 * What is wrong with `value` for the field `rule` describes, or null when the server would take
 * it: `{ kind: 'enum', values }`, `{ kind: 'number' }`, `{ kind: 'integer' }`,
 * `{ kind: 'range', min, max }`, `{ kind: 'minLength', min }`, `{ kind: 'maxLength', max }` or
 * `{ kind: 'pattern', pattern }`.
 */
export function fieldProblem(rule, value) {
  const allowed = types(rule);
  if (value === null || value === undefined) {
    return allowed.includes('null') || (rule.enum ?? []).includes(null) ? null : { kind: 'required' };
  }
  if (rule.enum && !rule.enum.includes(value)) return { kind: 'enum', values: rule.enum.filter((v) => v !== null) };
  if (allowed.includes('integer') || allowed.includes('number')) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return { kind: 'number' };
    if (!allowed.includes('number') && !Number.isInteger(value)) return { kind: 'integer' };
    const min = rule.minimum ?? -Infinity;
    const max = rule.maximum ?? Infinity;
    if (value < min || value > max) return { kind: 'range', min: rule.minimum ?? null, max: rule.maximum ?? null };
    return null;
  }
  if (typeof value === 'string') {
    const n = charCount(value);
    if (rule.minLength !== undefined && n < rule.minLength) return { kind: 'minLength', min: rule.minLength };
    if (rule.maxLength !== undefined && n > rule.maxLength) return { kind: 'maxLength', max: rule.maxLength };
    if (rule.pattern !== undefined && !new RegExp(rule.pattern, 'u').test(value)) return { kind: 'pattern', pattern: rule.pattern };
  }
  return null;
}
