// The header's notification list: open alerts (P0 at once, P1 within the hour, P2 for the
// summary), polled every 30 s, with a count badge. A real button toggles the list, Escape closes it.

import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { ApiError, api, asApiError, reportError } from '../api';
import { ErrorNotice } from '../errors';
import { formatDateTime } from '../format';
import { useLang, useT } from '../i18n';

export interface Alert {
  id: string;
  rule: string;
  priority: 'P0' | 'P1' | 'P2';
  subject: string;
  state: 'open' | 'resolved';
  message: string;
  details: Record<string, unknown>;
  first_seen: string;
  last_seen: string;
  resolved_at: string | null;
  occurrences: number;
}

const POLL_MS = 30_000;

export function AlertItem({ alert }: { alert: Alert }) {
  const t = useT();
  const { lang } = useLang();
  return (
    <li className={`alert alert-${alert.priority.toLowerCase()}`} data-testid="alert-item">
      <span className={`priority priority-${alert.priority.toLowerCase()}`} data-testid="alert-priority">
        {alert.priority}
      </span>{' '}
      <span data-testid="alert-message">{alert.message}</span>
      <br />
      <span className="muted">
        {t('alerts.seen', {
          subject: alert.subject,
          time: formatDateTime(alert.last_seen, lang),
          count: alert.occurrences,
        })}
      </span>
    </li>
  );
}

export function AlertsBell() {
  const t = useT();
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);

  const load = useCallback(async () => {
    try {
      const answer = await api.get<{ alerts: Alert[] }>('/alerts?state=open');
      setAlerts(answer.alerts);
      setError(null);
    } catch (err) {
      // Keep one error object per failing code so a server that stays down is reported once,
      // not every 30 s.
      const next = asApiError(err);
      setError((prev) => {
        if (prev && prev.code === next.code) return prev;
        // Reported now: the notice that would report it is only drawn when the list is open.
        reportError(next, 'alerts bell');
        return next;
      });
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  const count = alerts?.length ?? 0;
  const label = error
    ? t('alerts.buttonFailed')
    : t('alerts.button', { count });
  return (
    <div
      className="alerts-bell"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          setOpen(false);
          buttonRef.current?.focus();
        }
      }}
    >
      <button
        ref={buttonRef}
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
        aria-label={label}
        data-testid="alerts-bell"
        className={count > 0 ? 'has-alerts' : undefined}
      >
        <svg className="bell-icon" aria-hidden="true" viewBox="0 0 24 24" width="16" height="16">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
          />
        </svg>{' '}
        {t('alerts.title')}
        {count > 0 && (
          <span className="count-badge" data-testid="alerts-count" aria-hidden="true">
            {count}
          </span>
        )}
        {error && (
          <span className="count-badge failed" aria-hidden="true">
            !
          </span>
        )}
      </button>
      {open && (
        <div id={panelId} className="alerts-panel" role="region" aria-label={t('alerts.title')} data-testid="alerts-panel">
          <h2>{t('alerts.title')}</h2>
          {error && <ErrorNotice error={error} context="alerts bell" onRetry={load} />}
          {alerts && alerts.length === 0 && <p>{t('alerts.none')}</p>}
          {alerts && alerts.length > 0 && (
            <ul className="alert-list">
              {alerts.map((a) => (
                <AlertItem key={a.id} alert={a} />
              ))}
            </ul>
          )}
          <Link to="/monitoring" onClick={() => setOpen(false)}>
            {t('alerts.toMonitoring')}
          </Link>
        </div>
      )}
    </div>
  );
}
