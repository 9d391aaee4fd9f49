// The UI's one error policy (design review change 5): every error shows what went wrong, its code
// and trace id (copyable) and is posted to the server's client log; a retryable error offers
// Retry; a non-retryable one opens a dialog with the reason, the details and the catalogue's
// solutions for that code in the current language. The reason is the catalogue's explanation in
// the UI's language; the raw message (often an English OS message) is kept under "details".
// Where the caller can continue after the user fixed the cause (a FAILED project), a
// non-retryable error offers "Try again after fixing" instead of leaving only a way out.

import { useEffect, useId, useRef, useState } from 'react';
import { ApiError, UI_CODES, api, asApiError, isUiCode, reportError } from './api';
import { useLang, useT, type MessageKey, type Translate } from './i18n';

interface CatalogueEntry {
  code: string;
  title: string;
  explanation: string;
  solutions: string[];
  is_retryable: boolean;
}

const uiGuides: Record<string, { title: MessageKey; solutions: MessageKey[] }> = {
  [UI_CODES.network]: {
    title: 'error.network.title',
    solutions: ['error.network.s1', 'error.network.s2', 'error.network.s3'],
  },
  [UI_CODES.unreadable]: {
    title: 'error.unreadable.title',
    solutions: ['error.unreadable.s1', 'error.unreadable.s2'],
  },
  [UI_CODES.websocket]: {
    title: 'error.websocket.title',
    solutions: ['error.websocket.s1', 'error.websocket.s2'],
  },
  [UI_CODES.internal]: {
    title: 'error.internal.title',
    solutions: ['error.internal.s1', 'error.internal.s2'],
  },
};

interface Guide {
  title: string;
  /** The catalogue's explanation in the UI's language; null for the UI's own codes, whose
   * message is already in the UI's language. */
  explanation: string | null;
  solutions: string[];
}

type GuideState =
  | { state: 'loading' }
  | { state: 'ready'; guide: Guide }
  | { state: 'failed'; error: ApiError; fallback: string[] };

/** The catalogue's guide for the error's code, in the current language. */
function useGuide(error: ApiError, t: Translate): GuideState {
  const { lang } = useLang();
  const [guide, setGuide] = useState<GuideState>({ state: 'loading' });
  useEffect(() => {
    const local = uiGuides[error.code];
    if (isUiCode(error.code) && local) {
      setGuide({
        state: 'ready',
        guide: { title: t(local.title), explanation: null, solutions: local.solutions.map((k) => t(k)) },
      });
      return;
    }
    let live = true;
    setGuide({ state: 'loading' });
    api
      .get<CatalogueEntry>(`/system/errors/${encodeURIComponent(error.code)}`)
      .then((entry) => {
        if (live) {
          setGuide({
            state: 'ready',
            guide: { title: entry.title, explanation: entry.explanation, solutions: entry.solutions },
          });
        }
      })
      .catch((e: unknown) => {
        if (!live) return;
        const failure = asApiError(e);
        reportError(failure, 'error dialog: catalogue lookup');
        setGuide({ state: 'failed', error: failure, fallback: error.solutions });
      });
    return () => {
      live = false;
    };
  }, [error, lang, t]);
  return guide;
}

function CopyableTrace({ traceId }: { traceId: string }) {
  const t = useT();
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(traceId);
      setCopied('yes');
    } catch {
      // Clipboard access needs a secure context or permission; the id stays selectable.
      setCopied('failed');
    }
  };
  return (
    <span className="trace">
      <code data-testid="trace-id" className="selectable">
        {traceId}
      </code>{' '}
      <button type="button" className="small" onClick={() => void copy()}>
        {t('error.copy')}
      </button>
      <span role="status" className="muted">
        {copied === 'yes' ? t('error.copied') : copied === 'failed' ? t('error.copyFailed') : ''}
      </span>
    </span>
  );
}

function CodeAndTrace({ error }: { error: ApiError }) {
  const t = useT();
  return (
    <dl className="error-ids">
      <dt>{t('error.code')}</dt>
      <dd>
        <code data-testid="error-code">{error.code}</code>
      </dd>
      <dt>{t('error.traceId')}</dt>
      <dd>
        <CopyableTrace traceId={error.traceId} />
      </dd>
    </dl>
  );
}

/** A detail as the user reads it: lists as lists, records as `key: value` pairs. */
function DetailValue({ value }: { value: unknown }) {
  if (Array.isArray(value)) {
    return (
      <ul>
        {value.map((item, i) => (
          <li key={i}>
            <DetailValue value={item} />
          </li>
        ))}
      </ul>
    );
  }
  if (typeof value === 'object' && value !== null) {
    const text = Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' · ');
    return <code className="selectable">{text}</code>;
  }
  return <code className="selectable">{typeof value === 'string' ? value : JSON.stringify(value)}</code>;
}

/** What the user can do from the notice and the dialog besides closing them. */
interface WayOn {
  /** "Retry" (retryable) or "Try again after fixing" (not retryable); null when neither. */
  kind: 'retry' | 'afterFix' | null;
  busy: boolean;
  run: () => void;
}

function WayOnButton({ wayOn, onDone }: { wayOn: WayOn; onDone?: () => void }) {
  const t = useT();
  if (wayOn.kind === null) return null;
  const label =
    wayOn.kind === 'retry'
      ? wayOn.busy
        ? t('error.retrying')
        : t('error.retry')
      : wayOn.busy
        ? t('error.retrying')
        : t('error.retryAfterFix');
  return (
    <button
      type="button"
      className="primary"
      data-testid={wayOn.kind === 'retry' ? 'error-retry' : 'error-retry-after-fix'}
      disabled={wayOn.busy}
      onClick={() => {
        onDone?.();
        wayOn.run();
      }}
    >
      {label}
    </button>
  );
}

/** The raw message and the error's details, folded away behind "details". */
function RawDetails({ error, showMessage }: { error: ApiError; showMessage: boolean }) {
  const t = useT();
  const detailEntries = Object.entries(error.details);
  if (!showMessage && detailEntries.length === 0) return null;
  return (
    <details className="error-raw" data-testid="error-raw">
      <summary>{t('error.details')}</summary>
      {showMessage && (
        <p>
          {t('error.rawMessage')}: <span className="selectable" data-testid="error-message">{error.message}</span>
        </p>
      )}
      {detailEntries.length > 0 && (
        <dl className="error-details" data-testid="error-details">
          {detailEntries.map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>
                <DetailValue value={value} />
              </dd>
            </div>
          ))}
        </dl>
      )}
    </details>
  );
}

function ErrorDialog({
  error,
  guide,
  wayOn,
  onClose,
}: {
  error: ApiError;
  guide: GuideState;
  wayOn: WayOn;
  onClose: () => void;
}) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  const title = guide.state === 'ready' ? guide.guide.title : error.code;
  const solutions =
    guide.state === 'ready' ? guide.guide.solutions : guide.state === 'failed' ? guide.fallback : [];
  const explanation = guide.state === 'ready' ? guide.guide.explanation : null;
  return (
    <dialog
      ref={ref}
      role="dialog"
      aria-labelledby={titleId}
      data-testid="error-dialog"
      className="error-dialog"
      // A close event for a dialog that is open again (React re-running the effect) is stale.
      onClose={() => {
        if (!ref.current?.open) onClose();
      }}
    >
      <h2 id={titleId}>{t('error.dialogTitle', { title })}</h2>
      <h3>{t('error.reason')}</h3>
      {/* The catalogue's explanation in the UI's language; until it is known (or when it cannot
          be had) the message itself, so the reason is never missing. */}
      <p data-testid="error-reason">
        {explanation ?? (
          <span className="selectable" data-testid="error-message">
            {error.message}
          </span>
        )}
      </p>
      {error.stage && (
        <p>
          {t('error.stage')}: <code>{error.stage}</code>
        </p>
      )}
      <CodeAndTrace error={error} />
      <h3>{t('error.solutions')}</h3>
      {guide.state === 'loading' && <p role="status">{t('error.solutionsLoading')}</p>}
      {guide.state === 'failed' && (
        <p role="status">{t('error.solutionsUnavailable', { reason: `${guide.error.code}: ${guide.error.message}` })}</p>
      )}
      {solutions.length > 0 && (
        <ol data-testid="error-solutions">
          {solutions.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ol>
      )}
      {wayOn.kind === 'afterFix' && <p className="hint">{t('error.retryAfterFixHint')}</p>}
      <RawDetails error={error} showMessage={explanation !== null} />
      <div className="actions">
        <WayOnButton wayOn={wayOn} onDone={() => ref.current?.close()} />
        <button type="button" className={wayOn.kind === null ? 'primary' : ''} onClick={() => ref.current?.close()} autoFocus>
          {t('common.close')}
        </button>
      </div>
    </dialog>
  );
}

export interface ErrorNoticeProps {
  error: ApiError;
  /** Where the error was seen (page, action); goes to the client log. */
  context: string;
  /** Offered as a Retry button when the error is retryable. */
  onRetry?: () => Promise<void> | void;
  /** Offered as "Try again after fixing" when the error is not retryable but the caller can
   * continue once the user has fixed the cause (e.g. `POST /projects/{id}/retry`). */
  onRetryAfterFix?: () => Promise<void> | void;
}

export function ErrorNotice({ error, context, onRetry, onRetryAfterFix }: ErrorNoticeProps) {
  const t = useT();
  const guide = useGuide(error, t);
  const [dialogOpen, setDialogOpen] = useState(!error.isRetryable);
  const [retrying, setRetrying] = useState(false);
  useEffect(() => {
    reportError(error, context);
    setDialogOpen(!error.isRetryable);
  }, [error, context]);
  const handler = error.isRetryable ? onRetry : onRetryAfterFix;
  const run = async () => {
    if (!handler) return;
    setRetrying(true);
    try {
      await handler();
    } finally {
      setRetrying(false);
    }
  };
  const wayOn: WayOn = {
    kind: handler ? (error.isRetryable ? 'retry' : 'afterFix') : null,
    busy: retrying,
    run: () => void run(),
  };
  // The catalogue's title in the UI's language says what went wrong; the raw message goes under
  // "details". The UI's own codes have messages in the UI's language already.
  const explained = guide.state === 'ready' && guide.guide.explanation !== null;
  return (
    <>
      <div className="error-notice" role="alert" data-testid="error-notice">
        <p className="error-message" data-testid="error-headline">
          {explained ? guide.guide.title : error.message}
        </p>
        {explained && (
          <details className="error-raw">
            <summary>{t('error.details')}</summary>
            <span className="selectable">{error.message}</span>
          </details>
        )}
        <CodeAndTrace error={error} />
        <div className="actions">
          <WayOnButton wayOn={wayOn} />
          {error.isRetryable && !onRetry && <span className="muted">{t('error.retryable')}</span>}
          <button type="button" onClick={() => setDialogOpen(true)}>
            {t('error.showDetails')}
          </button>
        </div>
      </div>
      {dialogOpen && <ErrorDialog error={error} guide={guide} wayOn={wayOn} onClose={() => setDialogOpen(false)} />}
    </>
  );
}
