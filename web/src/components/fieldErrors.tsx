// Validation errors name the field they are about (`details.field` + `details.rule`, or
// `details.violations[]` for a configuration checked as a whole); forms show each rule next to
// the input it concerns.

import type { ApiError } from '../api';
import { useT } from '../i18n';

export type FieldErrors = Record<string, string>;

export function fieldErrors(error: ApiError | null): FieldErrors {
  const out: FieldErrors = {};
  if (!error) return out;
  const { field, rule, violations } = error.details;
  if (typeof field === 'string') out[field] = typeof rule === 'string' ? rule : error.message;
  if (Array.isArray(violations)) {
    for (const v of violations) {
      if (typeof v === 'object' && v !== null) {
        const { field: f, rule: r } = v as { field?: unknown; rule?: unknown };
        if (typeof f === 'string') out[f] = typeof r === 'string' ? r : error.message;
      }
    }
  }
  return out;
}

/** The id of the element that describes a field's error, for `aria-describedby`. */
export function fieldErrorId(form: string, field: string): string {
  return `${form}-${field.replace(/[^A-Za-z0-9_-]/g, '-')}-error`;
}

export function FieldError({ form, field, errors }: { form: string; field: string; errors: FieldErrors }) {
  const t = useT();
  const rule = errors[field];
  if (rule === undefined) return null;
  return (
    <p id={fieldErrorId(form, field)} className="field-error" data-testid={`field-error-${field}`}>
      {t('form.ruleBroken', { rule })}
    </p>
  );
}

/** Props that tie an input to its error message. */
export function describedBy(form: string, field: string, errors: FieldErrors) {
  const invalid = errors[field] !== undefined;
  return {
    'aria-invalid': invalid,
    'aria-describedby': invalid ? fieldErrorId(form, field) : undefined,
  } as const;
}
