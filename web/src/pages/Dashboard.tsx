import { useCallback, useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useApi, type Loaded } from '../hooks';
import { formatDateTime } from '../format';
import { quotaError, quotaName, quotaUnit, type QuotaStatus } from '../quotas';
import { useLang, useT } from '../i18n';
import { CONTRACT, LIMITS } from '../contract';
import {
  STATUSES,
  statusKey,
  statusTone,
  type ActionResponse,
  type ProjectPage,
  type ProjectSummary,
} from '../projects';

interface InitStatus {
  has_projects: boolean;
  language: string;
  version: string;
}

interface Stats {
  total_projects: number;
  by_status: Record<string, number>;
  queued_jobs: number;
  running_jobs: number;
}

interface CatalogueEntry {
  code: string;
  is_retryable: boolean;
}

const PAGE_SIZE = 10;
/** The most the list route answers at once (projects.rs `list_projects`: limit 1–200). */
const API_PAGE_LIMIT = LIMITS.project_page_max;
/** Unfinished projects listed at first, and how many more each "show more" adds. */
const RESUME_SHOWN = 50;
const SORTS = CONTRACT.project_sorts;

function StatusBadge({ status }: { status: string }) {
  const t = useT();
  return (
    <span className={`badge ${statusTone(status)}`} data-testid="status-badge" data-status={status}>
      {t(statusKey(status))}
    </span>
  );
}

export { StatusBadge };

function StatsCards() {
  const t = useT();
  const [stats, reload] = useApi<Stats>('/system/stats');
  if (stats.state === 'loading') return <p role="status">{t('common.loading')}</p>;
  if (stats.state === 'failed') return <ErrorNotice error={stats.error} context="dashboard: stats" onRetry={reload} />;
  const s = stats.data;
  const count = (status: string) => s.by_status[status] ?? 0;
  const cards: [string, number][] = [
    [t('dashboard.stats.total'), s.total_projects],
    [t('dashboard.stats.completed'), count('COMPLETED')],
    [t('dashboard.stats.failed'), count('FAILED')],
    [t('dashboard.stats.paused'), count('PAUSED')],
    [t('dashboard.stats.running'), s.running_jobs],
    [t('dashboard.stats.queued'), s.queued_jobs],
  ];
  return (
    <div className="cards" data-testid="stats">
      {cards.map(([label, n]) => (
        <div className="card" key={label}>
          <div className="number">{n}</div>
          <div>{label}</div>
        </div>
      ))}
    </div>
  );
}

function QuotaBars() {
  const t = useT();
  const { lang } = useLang();
  const [quotas, reload] = useApi<{ quotas: QuotaStatus[] }>('/quotas');
  if (quotas.state === 'loading') return <p role="status">{t('common.loading')}</p>;
  if (quotas.state === 'failed') return <ErrorNotice error={quotas.error} context="dashboard: quotas" onRetry={reload} />;
  if (quotas.data.quotas.length === 0) return <p className="muted">{t('dashboard.quota.none')}</p>;
  return (
    <ul className="quota-list" data-testid="quotas">
      {quotas.data.quotas.map((q) => {
        const error = quotaError(q);
        const share = q.limit ? Math.min(1, q.used / q.limit) : null;
        const tone = share === null ? '' : share >= 0.9 ? 'bad' : share >= 0.8 ? 'warn' : '';
        return (
          <li key={q.provider}>
            <strong>{quotaName(t, q)}</strong>{' '}
            {q.limit != null
              ? t('dashboard.quota.used', { used: q.used, limit: q.limit, unit: quotaUnit(t, q) })
              : t('dashboard.quota.usedNoLimit', { used: q.used, unit: quotaUnit(t, q) })}
            {q.resets_at && <span className="muted"> · {t('dashboard.quota.resets', { at: formatDateTime(q.resets_at, lang) })}</span>}
            {share !== null && (
              <div
                className={`bar ${tone}`}
                role="progressbar"
                aria-label={t('dashboard.quota.barLabel', { provider: quotaName(t, q) })}
                aria-valuemin={0}
                aria-valuemax={q.limit ?? 0}
                aria-valuenow={q.used}
              >
                <span style={{ width: `${share * 100}%` }} />
              </div>
            )}
            {error && <ErrorNotice error={error} context={`dashboard: quota ${q.provider}`} onRetry={reload} />}
          </li>
        );
      })}
    </ul>
  );
}

/** Every project in `status`, page after page (the API answers at most 200 at a time), oldest
 * first so that projects created meanwhile are appended rather than shifting the pages. */
function useAllProjects(status: string): [Loaded<ProjectSummary[]>, () => Promise<void>] {
  const [loaded, setLoaded] = useState<Loaded<ProjectSummary[]>>({ state: 'loading' });
  const load = useCallback(async () => {
    try {
      const byId = new Map<string, ProjectSummary>();
      for (let offset = 0; ; ) {
        const query = new URLSearchParams({
          status,
          limit: String(API_PAGE_LIMIT),
          offset: String(offset),
          sort: 'created_at',
          order: 'asc',
        });
        const page = await api.get<ProjectPage>(`/projects?${query.toString()}`);
        for (const p of page.items) byId.set(p.id, p);
        offset += page.items.length;
        if (page.items.length === 0 || offset >= page.total) break;
      }
      setLoaded({ state: 'ready', data: [...byId.values()] });
    } catch (e) {
      setLoaded({ state: 'failed', error: asApiError(e) });
    }
  }, [status]);
  useEffect(() => {
    void load();
  }, [load]);
  return [loaded, load];
}

/** Paused projects and failed ones whose error is retryable, with one button each; all of them,
 * however many (the list shows them in steps, "resume all" takes every one). */
function ResumeUnfinished({ onChanged }: { onChanged: () => void }) {
  const t = useT();
  const [paused, reloadPaused] = useAllProjects('PAUSED');
  const [failed, reloadFailed] = useAllProjects('FAILED');
  const [shown, setShown] = useState(RESUME_SHOWN);
  const [catalogue] = useApi<CatalogueEntry[]>('/system/errors');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // Projects already sent on: they stay PAUSED/FAILED until a worker takes them, so the lists
  // alone would still offer them.
  const [sent, setSent] = useState<ReadonlySet<string>>(new Set());
  if (paused.state === 'failed') return <ErrorNotice error={paused.error} context="dashboard: paused list" onRetry={reloadPaused} />;
  if (failed.state === 'failed') return <ErrorNotice error={failed.error} context="dashboard: failed list" onRetry={reloadFailed} />;
  if (catalogue.state === 'failed') return <ErrorNotice error={catalogue.error} context="dashboard: error catalogue" />;
  if (paused.state !== 'ready' || failed.state !== 'ready' || catalogue.state !== 'ready') return null;
  const retryable = new Set(catalogue.data.filter((c) => c.is_retryable).map((c) => c.code));
  const items: { project: ProjectSummary; action: 'resume' | 'retry' }[] = [
    ...paused.data.map((p) => ({ project: p, action: 'resume' as const })),
    ...failed.data
      .filter((p) => p.error_code !== null && retryable.has(p.error_code))
      .map((p) => ({ project: p, action: 'retry' as const })),
  ].filter(({ project }) => !sent.has(project.id));
  if (items.length === 0) {
    return sent.size > 0 ? (
      <p role="status" data-testid="resume-sent">
        {t('dashboard.resume.sent', { n: sent.size })}
      </p>
    ) : null;
  }
  const run = async (targets: typeof items) => {
    setBusy(true);
    setError(null);
    try {
      for (const { project, action } of targets) {
        await api.send<ActionResponse>('POST', `/projects/${project.id}/${action}`);
        setSent((prev) => new Set([...prev, project.id]));
      }
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
      await Promise.all([reloadPaused(), reloadFailed()]);
      onChanged();
    }
  };
  return (
    <section className="panel" aria-labelledby="resume-heading" data-testid="resume-unfinished">
      <h2 id="resume-heading">{t('dashboard.resume.title', { n: items.length })}</h2>
      <ul data-testid="resume-list">
        {items.slice(0, shown).map(({ project, action }) => (
          <li key={project.id}>
            <Link to={`/projects/${project.id}`}>{project.name || project.id}</Link> <StatusBadge status={project.status} />{' '}
            {project.error_code && <code>{project.error_code}</code>}{' '}
            <button type="button" className="small" disabled={busy} onClick={() => void run([{ project, action }])}>
              {action === 'resume' ? t('dashboard.resume.resume') : t('dashboard.resume.retry')}
            </button>
          </li>
        ))}
      </ul>
      {items.length > shown && (
        <p className="actions">
          <span data-testid="resume-shown">{t('dashboard.resume.shown', { shown, total: items.length })}</span>
          <button type="button" onClick={() => setShown((n) => n + RESUME_SHOWN)} data-testid="resume-show-more">
            {t('dashboard.resume.showMore', { n: Math.min(RESUME_SHOWN, items.length - shown) })}
          </button>
        </p>
      )}
      <button type="button" className="primary" disabled={busy} onClick={() => void run(items)} data-testid="resume-all">
        {t('dashboard.resume.all', { n: items.length })}
      </button>
      {error && <ErrorNotice error={error} context="dashboard: resume unfinished" />}
    </section>
  );
}

function ProjectTable({ refreshKey }: { refreshKey: number }) {
  const t = useT();
  const { lang } = useLang();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const sortParam = params.get('sort') ?? 'created_at';
  const sort = (SORTS as readonly string[]).includes(sortParam) ? sortParam : 'created_at';
  const order = params.get('order') === 'asc' ? 'asc' : 'desc';
  const page = Math.max(0, Number.parseInt(params.get('page') ?? '0', 10) || 0);
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(page * PAGE_SIZE), sort, order });
  if (status) query.set('status', status);
  const [list, reload] = useApi<ProjectPage>(`/projects?${query.toString()}`);
  useEffect(() => {
    if (refreshKey > 0) void reload();
  }, [refreshKey, reload]);
  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
  };
  return (
    <section aria-labelledby="projects-heading">
      <h2 id="projects-heading">{t('dashboard.projects.title')}</h2>
      <div className="field-row">
        <label className="field">
          <span className="label">{t('dashboard.projects.filter')}</span>
          <select value={status} onChange={(e) => update({ status: e.target.value, page: '' })} data-testid="status-filter">
            <option value="">{t('dashboard.projects.allStatuses')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(statusKey(s))}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="label">{t('dashboard.projects.sort')}</span>
          <select value={sort} onChange={(e) => update({ sort: e.target.value, page: '' })} data-testid="sort">
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {t(`dashboard.sort.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="label">{t('dashboard.projects.order')}</span>
          <select value={order} onChange={(e) => update({ order: e.target.value, page: '' })} data-testid="order">
            <option value="desc">{t('dashboard.order.desc')}</option>
            <option value="asc">{t('dashboard.order.asc')}</option>
          </select>
        </label>
      </div>
      {list.state === 'loading' && <p role="status">{t('common.loading')}</p>}
      {list.state === 'failed' && <ErrorNotice error={list.error} context="dashboard: project list" onRetry={reload} />}
      {list.state === 'ready' && list.data.total === 0 && (
        <p className="muted">{status ? t('dashboard.projects.noneWithStatus') : t('dashboard.projects.none')}</p>
      )}
      {list.state === 'ready' && list.data.total > 0 && (
        <>
          <div className="table-wrap">
            <table data-testid="project-table">
              <thead>
                <tr>
                  <th scope="col">{t('dashboard.col.name')}</th>
                  <th scope="col">{t('dashboard.col.status')}</th>
                  <th scope="col">{t('dashboard.col.error')}</th>
                  <th scope="col">{t('dashboard.col.created')}</th>
                  <th scope="col">{t('dashboard.col.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((p) => (
                  <tr key={p.id} data-project-id={p.id}>
                    <td>
                      <Link to={p.status === 'COMPLETED' ? `/projects/${p.id}/result` : `/projects/${p.id}`}>
                        {p.name || t('dashboard.projects.unnamed')}
                      </Link>
                    </td>
                    <td>
                      <StatusBadge status={p.status} />
                    </td>
                    <td>{p.error_code ? <code>{p.error_code}</code> : ''}</td>
                    <td>{formatDateTime(p.created_at, lang)}</td>
                    <td>{formatDateTime(p.updated_at, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="actions" aria-label={t('dashboard.pages.label')}>
            <button type="button" disabled={page === 0} onClick={() => update({ page: String(page - 1) })}>
              {t('dashboard.pages.prev')}
            </button>
            <span data-testid="page-range">
              {t('dashboard.pages.range', {
                from: list.data.offset + 1,
                to: list.data.offset + list.data.items.length,
                total: list.data.total,
              })}
            </span>
            <button
              type="button"
              disabled={list.data.offset + list.data.items.length >= list.data.total}
              onClick={() => update({ page: String(page + 1) })}
            >
              {t('dashboard.pages.next')}
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

export default function Dashboard() {
  const t = useT();
  const [init, reloadInit] = useApi<InitStatus>('/system/init');
  const [refreshKey, setRefreshKey] = useState(0);
  return (
    <>
      <div className="actions">
        <h1>{t('dashboard.title')}</h1>
        <Link to="/projects/new" className="button primary" data-testid="new-project">
          {t('dashboard.newProject')}
        </Link>
      </div>
      {init.state === 'failed' && <ErrorNotice error={init.error} context="dashboard: init" onRetry={reloadInit} />}
      {init.state === 'ready' && !init.data.has_projects && (
        <section className="panel" data-testid="first-run">
          <h2>{t('dashboard.firstRun.title')}</h2>
          <p>{t('dashboard.firstRun.body')}</p>
          <div className="actions">
            <Link to="/setup" className="button primary">
              {t('dashboard.firstRun.setup')}
            </Link>
            <Link to="/projects/new" className="button">
              {t('dashboard.firstRun.skip')}
            </Link>
          </div>
        </section>
      )}
      <StatsCards />
      <h2>{t('dashboard.quota.title')}</h2>
      <QuotaBars />
      <ResumeUnfinished onChanged={() => setRefreshKey((k) => k + 1)} />
      <ProjectTable refreshKey={refreshKey} />
    </>
  );
}
