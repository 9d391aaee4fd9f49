import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useApi } from '../hooks';
import { formatAmount, formatClock } from '../format';
import { useLang, useT, type Translate } from '../i18n';
import { useProgressSocket } from '../progressSocket';
import {
  STAGES,
  isInProgress,
  stageKey,
  statusKey,
  type ActionResponse,
  type Project,
  type ProjectPageState,
  type ProjectView,
} from '../projects';
import { StatusBadge } from './Dashboard';

type Action = 'start' | 'pause' | 'resume' | 'cancel' | 'retry';

function formatEta(seconds: number, t: Translate): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m > 0 ? t('progress.eta.minutes', { m, s: s % 60 }) : t('progress.eta.seconds', { s });
}

function unitLabel(unit: string, t: Translate): string {
  switch (unit) {
    case 's':
      return t('progress.unit.seconds');
    case 'assets':
      return t('progress.unit.assets');
    case 'script':
      return t('progress.unit.script');
    case 'thumbnail':
      return t('progress.unit.thumbnail');
    case 'publish':
      return t('progress.unit.publish');
    default:
      return unit;
  }
}

/** Keeps a scrolled list at its newest line unless the user has scrolled up to read. */
function useFollowNewest(count: number) {
  const ref = useRef<HTMLOListElement>(null);
  const following = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [count]);
  const onScroll = () => {
    const el = ref.current;
    if (el) following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
  };
  return { ref, onScroll };
}

function stageStateKey(state: string) {
  switch (state) {
    case 'started':
      return 'progress.stageState.started' as const;
    case 'finished':
      return 'progress.stageState.finished' as const;
    case 'failed':
      return 'progress.stageState.failed' as const;
    case 'stopped':
      return 'progress.stageState.stopped' as const;
    default:
      return 'progress.stageState.pending' as const;
  }
}

function Timeline({ view }: { view: ProjectView }) {
  const t = useT();
  return (
    <ol className="timeline" data-testid="timeline">
      {STAGES.map((stage) => {
        const recorded = view.stages[stage] ?? 'pending';
        // A stage that started and never finished is where a failed or paused run stopped.
        const stopped = view.stage === stage && recorded === 'started' && ['FAILED', 'PAUSED', 'CANCELLED'].includes(view.status);
        const state = stopped ? (view.status === 'FAILED' ? 'failed' : 'stopped') : recorded;
        const current = view.stage === stage && state === 'started';
        const sub = current ? view.sub_progress : null;
        return (
          <li key={stage} data-stage={stage} data-state={state} aria-current={current ? 'step' : undefined}>
            <strong>{t(stageKey(stage))}</strong>
            <div className={state === 'failed' ? 'field-error' : 'muted'}>{t(stageStateKey(state))}</div>
            {sub && sub.total > 0 && (
              <div data-testid="sub-progress">
                {t('progress.sub', { done: formatAmount(sub.done, sub.unit), total: formatAmount(sub.total, sub.unit), unit: unitLabel(sub.unit, t) })}
                <div
                  className="bar"
                  role="progressbar"
                  aria-label={t('progress.subLabel', { stage: t(stageKey(stage)) })}
                  aria-valuemin={0}
                  aria-valuemax={sub.total}
                  aria-valuenow={sub.done}
                >
                  <span style={{ width: `${Math.min(100, (sub.done / sub.total) * 100)}%` }} />
                </div>
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}

function Controls({
  project,
  view,
  onActed,
  refusedStart,
}: {
  project: Project;
  view: ProjectView;
  onActed: (r: ActionResponse) => void;
  /** A start refused before this page opened (the wizard's create-and-start). */
  refusedStart: ApiError | null;
}) {
  const t = useT();
  const [busy, setBusy] = useState<Action | null>(null);
  // The refusal of the last action, shown here beside its button (a refused Start stays at Start).
  const [error, setError] = useState<{ action: Action; error: ApiError } | null>(
    refusedStart ? { action: 'start', error: refusedStart } : null,
  );
  const act = async (action: Action) => {
    if (action === 'cancel' && !window.confirm(t('progress.action.cancelConfirm'))) return;
    setBusy(action);
    setError(null);
    try {
      onActed(await api.send<ActionResponse>('POST', `/projects/${project.id}/${action}`));
    } catch (e) {
      setError({ action, error: asApiError(e) });
    } finally {
      setBusy(null);
    }
  };
  const status = view.status;
  const buttons: { action: Action; label: string; show: boolean; primary?: boolean }[] = [
    { action: 'start', label: t('progress.action.start'), show: status === 'INITIALIZED' && project.job === null, primary: true },
    { action: 'pause', label: t('progress.action.pause'), show: isInProgress(status) },
    { action: 'resume', label: t('progress.action.resume'), show: status === 'PAUSED', primary: true },
    { action: 'cancel', label: t('progress.action.cancel'), show: !['COMPLETED', 'CANCELLED'].includes(status) },
  ];
  return (
    <>
      <div className="actions">
        {buttons
          .filter((b) => b.show)
          .map((b) => (
            <button
              key={b.action}
              type="button"
              className={b.action === 'cancel' ? 'danger' : b.primary ? 'primary' : ''}
              disabled={busy !== null}
              onClick={() => void act(b.action)}
              data-testid={`action-${b.action}`}
            >
              {busy === b.action ? t('progress.action.working') : b.label}
            </button>
          ))}
        {status === 'COMPLETED' && (
          <Link to={`/projects/${project.id}/result`} className="button primary" data-testid="result-link">
            {t('progress.viewResult')}
          </Link>
        )}
      </div>
      {error && (
        <div data-testid={`action-error-${error.action}`}>
          <ErrorNotice error={error.error} context={`progress: ${error.action}`} />
        </div>
      )}
    </>
  );
}

const OPEN_RESULT_KEY = 'ytmaker.openResultWhenDone';

/** The user's choice (kept in this browser) to go to the result page when a watched run completes. */
function useOpenResultWhenDone(): [boolean, (on: boolean) => void] {
  const [on, setOn] = useState(() => localStorage.getItem(OPEN_RESULT_KEY) !== 'false');
  const set = (value: boolean) => {
    localStorage.setItem(OPEN_RESULT_KEY, String(value));
    setOn(value);
  };
  return [on, set];
}

export default function Progress() {
  const t = useT();
  const { lang } = useLang();
  const { id = '' } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  // A start the wizard's create-and-start had refused, shown once at the Start button (then
  // dropped from the history entry, so a reload does not show an old refusal again).
  const [refusedStart] = useState<ApiError | null>(() => {
    const init = (location.state as ProjectPageState | null)?.startError;
    return init ? new ApiError({ ...init, projectId: id }) : null;
  });
  useEffect(() => {
    if ((location.state as ProjectPageState | null)?.startError) {
      void navigate(location.pathname, { replace: true, state: null });
    }
  }, [location.state, location.pathname, navigate]);
  const [project, reloadProject] = useApi<Project>(`/projects/${id}`);
  const live = useProgressSocket(project.state === 'ready' ? id : null);
  const log = useFollowNewest(live.log.length);
  const [continued, setContinued] = useState(false);
  const [retryError, setRetryError] = useState<ApiError | null>(null);
  // The event seq when a retry was accepted: the failure it answered is not offered again (the
  // project stays FAILED until a worker takes it), only a failure after it.
  const [retriedAt, setRetriedAt] = useState<number | null>(null);
  const view = live.view;
  const [openResultWhenDone, setOpenResultWhenDone] = useOpenResultWhenDone();
  // Only a run this page watched opens the result: a project already COMPLETED when the page
  // opened stays here (its log and timeline are what the user came for).
  const watchedRunning = useRef(false);
  useEffect(() => {
    if (!view) return;
    if (isInProgress(view.status)) watchedRunning.current = true;
    if (view.status === 'COMPLETED' && watchedRunning.current && openResultWhenDone) {
      void navigate(`/projects/${id}/result`);
    }
  }, [view, openResultWhenDone, navigate, id]);
  const storedError = project.state === 'ready' ? project.data.error_info : null;
  const failure = useMemo(() => {
    if (view?.status !== 'FAILED') return null;
    if (retriedAt !== null && view.seq <= retriedAt) return null;
    // The event log's error is the live one; the project's stored error_info is the same failure
    // for a log whose error event could not be read.
    const info = view.error ?? storedError;
    return info ? ApiError.fromErrorInfo(info, id) : null;
  }, [view?.status, view?.seq, view?.error, storedError, id, retriedAt]);

  if (project.state === 'loading') return <p role="status">{t('common.loading')}</p>;
  if (project.state === 'failed') {
    return (
      <>
        <h1>{t('progress.title')}</h1>
        <ErrorNotice error={project.error} context="progress: load project" onRetry={reloadProject} />
      </>
    );
  }
  const p = project.data;
  const noteContinuation = (r: ActionResponse) => {
    // The answer's status is the one before a worker took the project (a retried project is
    // still FAILED then); the note names the live status instead.
    setContinued(r.action === 'resume' || r.action === 'retry' || r.action === 'start');
    void reloadProject();
  };
  // Retry (a retryable failure) and "Try again after fixing" (any other): both continue the
  // project from the step that failed, as `ytmaker projects retry` does.
  const retry = async () => {
    setRetryError(null);
    const seq = view?.seq ?? null;
    try {
      const response = await api.send<ActionResponse>('POST', `/projects/${id}/retry`);
      setRetriedAt(seq);
      noteContinuation(response);
    } catch (e) {
      setRetryError(asApiError(e));
    }
  };
  return (
    <>
      <h1>
        {p.name || t('dashboard.projects.unnamed')} {view && <StatusBadge status={view.status} />}
      </h1>
      {live.socketError && (
        <ErrorNotice error={live.socketError} context="progress: websocket" onRetry={live.reconnectNow} />
      )}
      {view === null ? (
        <p role="status">{t('progress.connecting')}</p>
      ) : (
        <div
          data-testid="progress"
          data-status={view.status}
          data-stage={view.stage ?? ''}
          data-percent={view.percent}
          data-seq={view.seq}
        >
          <div className="panel">
            <p>
              <strong data-testid="percent">{t('progress.percent', { percent: view.percent.toFixed(1) })}</strong>
              {view.stage && <span> · {t(stageKey(view.stage))}</span>}
              {/* A paused, failed or finished project has no time left to estimate. */}
              {view.eta_seconds != null && isInProgress(view.status) && (
                <span data-testid="eta"> · {t('progress.eta', { eta: formatEta(view.eta_seconds, t) })}</span>
              )}
            </p>
            <div
              className="bar"
              role="progressbar"
              aria-label={t('progress.overall')}
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(view.percent)}
            >
              <span style={{ width: `${view.percent}%` }} />
            </div>
          </div>
          <Timeline view={view} />
          {continued && view.status !== 'FAILED' && (
            <p role="status" data-testid="continued">
              {t('progress.continued', { status: t(statusKey(view.status)) })}
            </p>
          )}
          {failure && (
            <ErrorNotice error={failure} context="progress: project failed" onRetry={retry} onRetryAfterFix={retry} />
          )}
          {retryError && <ErrorNotice error={retryError} context="progress: retry" />}
          <Controls project={p} view={view} onActed={noteContinuation} refusedStart={refusedStart} />
          {view.status !== 'COMPLETED' && view.status !== 'CANCELLED' && (
            <label className="checkbox">
              <input
                type="checkbox"
                checked={openResultWhenDone}
                onChange={(e) => setOpenResultWhenDone(e.target.checked)}
                data-testid="open-result-when-done"
              />{' '}
              {t('progress.openResultWhenDone')}
            </label>
          )}
          {live.retries.length > 0 && (
            <section aria-labelledby="retries-heading" data-testid="retry-notices">
              <h2 id="retries-heading">{t('progress.retries.title')}</h2>
              <ul>
                {live.retries.slice(-10).map((r) => (
                  <li key={r.seq}>
                    {t('progress.retries.item', { code: r.code, attempt: r.attempt, max: r.maxAttempts, what: r.what || '—' })}
                  </li>
                ))}
              </ul>
            </section>
          )}
          <h2>{t('progress.log.title')}</h2>
          <ol
            className="log"
            data-testid="log"
            aria-live="polite"
            tabIndex={0}
            aria-label={t('progress.log.title')}
            ref={log.ref}
            onScroll={log.onScroll}
          >
            {live.log.map((l) => (
              <li key={l.seq} className={`level-${l.level}`} data-level={l.level} data-seq={l.seq}>
                <span className="muted">{formatClock(l.timestamp, lang)}</span> [{t(levelKey(l.level))}] {l.text}
              </li>
            ))}
          </ol>
        </div>
      )}
    </>
  );
}

function levelKey(level: string) {
  switch (level) {
    case 'error':
      return 'progress.level.error' as const;
    case 'warn':
      return 'progress.level.warn' as const;
    case 'retry':
      return 'progress.level.retry' as const;
    case 'debug':
      return 'progress.level.debug' as const;
    default:
      return 'progress.level.info' as const;
  }
}
