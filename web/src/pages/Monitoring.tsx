// Monitoring (design review change 6): health, open alerts, each API's success rate and latency
// over the last 24 hours, the queue, the disk and the providers' quotas, refreshed every 30 s.

import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, asApiError } from '../api';
import { AlertItem, type Alert } from '../components/AlertsBell';
import { ErrorNotice } from '../errors';
import { bytes, formatDateTime, formatClock } from '../format';
import { quotaName, quotaSource, quotaUnit, type QuotaStatus } from '../quotas';
import { useLang, useT, type MessageKey, type Translate } from '../i18n';

interface ApiStats {
  api: string;
  calls: number;
  errors: number;
  success_rate: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
}

interface MonitoringData {
  health: 'healthy' | 'degraded' | 'unhealthy';
  alerts: Alert[];
  apis: ApiStats[];
  /** `oldest_queued_ms` is the age of the oldest waiting job. */
  queue: { queued: number; running: number; oldest_queued_ms: number | null };
  disk: { free_bytes: number; total_bytes: number; free_percent: number };
  quotas: QuotaStatus[];
}

const REFRESH_MS = 30_000;

const healthLabels: Record<MonitoringData['health'], MessageKey> = {
  healthy: 'mon.health.healthy',
  degraded: 'mon.health.degraded',
  unhealthy: 'mon.health.unhealthy',
};

/** An age in milliseconds in hours and minutes, minutes and seconds, or seconds. */
function duration(t: Translate, ageMs: number): string {
  const seconds = Math.round(ageMs / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return t('mon.age.hours', { h, m });
  if (m > 0) return t('mon.age.minutes', { m, s });
  return t('mon.age.seconds', { s });
}

function ms(v: number | null): string {
  return v === null ? '—' : `${Math.round(v)} ms`;
}

function QuotaRow({ quota }: { quota: QuotaStatus }) {
  const t = useT();
  const { lang } = useLang();
  const id = `quota-${quota.provider}`;
  const usedPercent = quota.limit ? Math.min(100, (quota.used / quota.limit) * 100) : null;
  const low = quota.limit != null && quota.remaining != null && quota.remaining < quota.limit * 0.2;
  return (
    <li className="quota" data-testid={`quota-${quota.provider}`}>
      <span id={id} className="quota-name">
        {quotaName(t, quota)}
      </span>
      {usedPercent !== null && quota.limit != null ? (
        <>
          <progress
            aria-labelledby={id}
            max={quota.limit}
            value={Math.min(quota.used, quota.limit)}
            className={low ? 'low' : undefined}
          />
          <span>
            {t('mon.quota.usedOf', {
              used: quota.used,
              limit: quota.limit,
              unit: quotaUnit(t, quota),
              percent: usedPercent.toFixed(0),
            })}
          </span>
        </>
      ) : (
        <span>{t('mon.quota.usedNoLimit', { used: quota.used, unit: quotaUnit(t, quota) })}</span>
      )}
      <span className="muted">
        {quota.resets_at
          ? t('mon.quota.resets', { time: formatDateTime(quota.resets_at, lang), source: quotaSource(t, quota) })
          : t('mon.quota.source', { source: quotaSource(t, quota) })}
      </span>
      {quota.error && (
        <span className="field-error" data-testid="quota-error">
          {t('mon.quota.readFailed', { code: quota.error.code, message: quota.error.message })}
        </span>
      )}
    </li>
  );
}

export default function Monitoring() {
  const t = useT();
  const { lang } = useLang();
  const [data, setData] = useState<MonitoringData | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loadedAt, setLoadedAt] = useState<Date | null>(null);

  const load = useCallback(async () => {
    try {
      setData(await api.get<MonitoringData>('/monitoring'));
      setLoadedAt(new Date());
      setError(null);
    } catch (err) {
      const next = asApiError(err);
      setError((prev) => (prev && prev.code === next.code ? prev : next));
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  return (
    <section className="monitoring" aria-labelledby="mon-title">
      <h1 id="mon-title">{t('mon.title')}</h1>
      <div className="actions">
        <button type="button" onClick={() => void load()} data-testid="mon-refresh">
          {t('mon.refresh')}
        </button>
        {loadedAt && <span className="muted">{t('mon.loadedAt', { time: formatClock(loadedAt, lang) })}</span>}
      </div>
      {error && <ErrorNotice error={error} context="monitoring" onRetry={load} />}
      {!data && !error && <p role="status">{t('common.loading')}</p>}
      {data && (
        <>
          <p className={`health health-${data.health}`} data-testid="mon-health">
            {t('mon.health', { state: t(healthLabels[data.health]) })}
          </p>

          <section aria-labelledby="mon-alerts">
            <h2 id="mon-alerts">{t('mon.alerts')}</h2>
            {data.alerts.length === 0 ? (
              <p>{t('alerts.none')}</p>
            ) : (
              <ul className="alert-list" data-testid="mon-alerts">
                {data.alerts.map((a) => (
                  <AlertItem key={a.id} alert={a} />
                ))}
              </ul>
            )}
          </section>

          <section aria-labelledby="mon-apis">
            <h2 id="mon-apis">{t('mon.apis')}</h2>
            {data.apis.length === 0 ? (
              <p>{t('mon.apis.none')}</p>
            ) : (
              <div className="table-wrap">
                <table data-testid="mon-apis-table">
                  <caption className="visually-hidden">{t('mon.apis')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('mon.api')}</th>
                      <th scope="col">{t('mon.calls')}</th>
                      <th scope="col">{t('mon.errors')}</th>
                      <th scope="col">{t('mon.successRate')}</th>
                      <th scope="col">p50</th>
                      <th scope="col">p90</th>
                      <th scope="col">p99</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.apis.map((a) => (
                      <tr key={a.api} data-testid={`mon-api-${a.api}`}>
                        <th scope="row">{a.api}</th>
                        <td>{a.calls}</td>
                        <td>{a.errors}</td>
                        <td
                          data-testid="success-rate"
                          className={a.success_rate !== null && a.success_rate < 0.95 ? 'bad' : undefined}
                        >
                          {a.success_rate === null ? '—' : `${(a.success_rate * 100).toFixed(1)} %`}
                        </td>
                        <td>{ms(a.p50_ms)}</td>
                        <td>{ms(a.p90_ms)}</td>
                        <td>{ms(a.p99_ms)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>

          <div className="mon-grid">
            <section aria-labelledby="mon-queue" data-testid="mon-queue">
              <h2 id="mon-queue">{t('mon.queue')}</h2>
              <p>
                {t('mon.queue.counts', { queued: data.queue.queued, running: data.queue.running })}
              </p>
              {data.queue.oldest_queued_ms !== null && (
                <p className="muted">
                  {t('mon.queue.oldest', { age: duration(t, data.queue.oldest_queued_ms) })}
                </p>
              )}
            </section>

            <section aria-labelledby="mon-disk" data-testid="mon-disk">
              <h2 id="mon-disk">{t('mon.disk')}</h2>
              <progress
                aria-labelledby="mon-disk"
                max={100}
                value={100 - data.disk.free_percent}
                className={data.disk.free_percent < 20 ? 'low' : undefined}
              />
              <p>
                {t('mon.disk.free', {
                  free: bytes(data.disk.free_bytes),
                  total: bytes(data.disk.total_bytes),
                  percent: data.disk.free_percent.toFixed(1),
                })}
              </p>
            </section>
          </div>

          <section aria-labelledby="mon-quotas">
            <h2 id="mon-quotas">{t('mon.quotas')}</h2>
            {data.quotas.length === 0 ? (
              <p>{t('mon.quotas.none')}</p>
            ) : (
              <ul className="quota-list" data-testid="mon-quotas">
                {data.quotas.map((q) => (
                  <QuotaRow key={q.provider} quota={q} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </section>
  );
}
