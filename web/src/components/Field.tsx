import type { ReactNode } from 'react';

export interface ControlProps {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby': string | undefined;
}

/** A labelled control with its hint and its error shown at the field (`field-error-<name>`). */
export function Field({
  name,
  label,
  hint,
  error,
  children,
}: {
  /** The server's field name (e.g. `youtube.title`), so a server rejection lands here too. */
  name: string;
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: (props: ControlProps) => ReactNode;
}) {
  const id = `field-${name.replace(/[^a-zA-Z0-9_-]/g, '-')}`;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = error ? `${id}-error` : null;
  const describedBy = [hintId, errorId].filter((x) => x !== null).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {hint && (
        <p className="hint" id={hintId ?? undefined}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={errorId ?? undefined} data-testid={`field-error-${name}`}>
          {error}
        </p>
      )}
    </div>
  );
}
