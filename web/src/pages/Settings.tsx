// Settings: the providers' keys (masked), the YouTube account, the daily quota limits,
// preferences, and the retention of intermediate files: a choice stored by the server
// (`PUT /api/v1/settings`, keep forever / 7 days / 30 days) that its hourly sweep applies to
// completed and cancelled projects, shown beside what is kept where.

import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { ApiError, api, asApiError } from '../api';
import { ProviderKeys } from '../components/ProviderKeys';
import { AccessTokenSettings } from '../components/SignIn';
import { YoutubeAccount } from '../components/YoutubeAccount';
import { ErrorNotice } from '../errors';
import { quotaName, quotaUnit, type QuotaStatus } from '../quotas';
import { LANGS, useLang, useT, type Lang, type MessageKey } from '../i18n';
import { setupState } from '../setupState';

interface InitStatus {
  has_projects: boolean;
  language: string;
  version: string;
}

/** `until: null` marks the intermediates, the one row the retention choice changes. */
const keptFiles: { path: string; what: MessageKey; until: MessageKey | null }[] = [
  { path: '<data>/ytmaker.db', what: 'settings.retention.database', until: 'settings.retention.kept' },
  { path: '<data>/projects/<id>/input.txt, script.json', what: 'settings.retention.inputs', until: 'settings.retention.kept' },
  { path: '<data>/projects/<id>/audio/, images/, avatar/, segments/, work/', what: 'settings.retention.intermediates', until: null },
  { path: '<data>/projects/<id>/output/', what: 'settings.retention.outputs', until: 'settings.retention.kept' },
  { path: '<data>/logs/', what: 'settings.retention.logs', until: 'settings.retention.keptLogs' },
];

const RETENTION_CHOICES = ['forever', '7d', '30d'] as const;
type RetentionChoice = (typeof RETENTION_CHOICES)[number];
const retentionLabel: Record<RetentionChoice, MessageKey> = {
  forever: 'settings.retention.forever',
  '7d': 'settings.retention.days7',
  '30d': 'settings.retention.days30',
};

interface ServerSettings {
  retention: RetentionChoice;
}

/** The retention choice: loaded from and saved to the server, which applies it hourly. */
function RetentionSettings() {
  const t = useT();
  const [saved, setSaved] = useState<RetentionChoice | null>(null);
  const [choice, setChoice] = useState<RetentionChoice | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [justSaved, setJustSaved] = useState(false);
  const [saving, setSaving] = useState(false);
  const load = useCallback(async () => {
    try {
      const settings = await api.get<ServerSettings>('/settings');
      setSaved(settings.retention);
      setChoice(settings.retention);
      setLoadError(null);
    } catch (err) {
      setLoadError(asApiError(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const save = useCallback(async () => {
    if (!choice) return;
    setSaving(true);
    setJustSaved(false);
    try {
      const settings = await api.send<ServerSettings>('PUT', '/settings', { retention: choice });
      setSaved(settings.retention);
      setChoice(settings.retention);
      setSaveError(null);
      setJustSaved(true);
    } catch (err) {
      setSaveError(asApiError(err));
    } finally {
      setSaving(false);
    }
  }, [choice]);
  const keptUntil = (until: MessageKey | null) => {
    if (until) return t(until);
    if (saved === '7d') return t('settings.retention.removedAfter', { days: 7 });
    if (saved === '30d') return t('settings.retention.removedAfter', { days: 30 });
    return t('settings.retention.kept');
  };
  return (
    <>
      <p>{t('settings.retention.help')}</p>
      {loadError && <ErrorNotice error={loadError} context="settings: retention" onRetry={load} />}
      {!saved && !loadError && <p role="status">{t('common.loading')}</p>}
      {saved && choice && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <fieldset data-testid="retention-choice">
            <legend>{t('settings.retention.legend')}</legend>
            {RETENTION_CHOICES.map((c) => (
              <label key={c} className="radio">
                <input
                  type="radio"
                  name="retention"
                  value={c}
                  checked={choice === c}
                  onChange={() => {
                    setChoice(c);
                    setJustSaved(false);
                  }}
                />
                {t(retentionLabel[c])}
              </label>
            ))}
          </fieldset>
          <div className="actions">
            <button type="submit" disabled={saving || choice === saved} data-testid="retention-save">
              {t('common.save')}
            </button>
          </div>
          <div role="status" aria-live="polite">
            {justSaved && (
              <p className="ok" data-testid="retention-saved">
                {t('settings.retention.saved', { choice: t(retentionLabel[saved]) })}
              </p>
            )}
          </div>
          {saveError && <ErrorNotice error={saveError} context="settings: retention" onRetry={save} />}
        </form>
      )}
      <table>
        <caption className="visually-hidden">{t('settings.retention.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('settings.retention.where')}</th>
            <th scope="col">{t('settings.retention.what')}</th>
            <th scope="col">{t('settings.retention.until')}</th>
          </tr>
        </thead>
        <tbody>
          {keptFiles.map((f) => (
            <tr key={f.path}>
              <td>
                <code>{f.path}</code>
              </td>
              <td>{t(f.what)}</td>
              <td data-testid={f.until ? undefined : 'retention-intermediates'}>{keptUntil(f.until)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">{t('settings.retention.dataDir')}</p>
    </>
  );
}

/** The daily limits the server checks starts against; they are set in its settings file. */
function QuotaLimits() {
  const t = useT();
  const [quotas, setQuotas] = useState<QuotaStatus[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(async () => {
    try {
      setQuotas((await api.get<{ quotas: QuotaStatus[] }>('/quotas')).quotas);
      setError(null);
    } catch (err) {
      setError(asApiError(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <>
      {error && <ErrorNotice error={error} context="settings: quotas" onRetry={load} />}
      {!quotas && !error && <p role="status">{t('common.loading')}</p>}
      {quotas && (
        <table data-testid="settings-quotas">
          <caption className="visually-hidden">{t('settings.quotas.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('settings.quotas.provider')}</th>
              <th scope="col">{t('settings.quotas.limit')}</th>
            </tr>
          </thead>
          <tbody>
            {quotas.map((q) => (
              <tr key={q.provider}>
                <th scope="row" data-quota={q.provider}>
                  {quotaName(t, q)}
                </th>
                <td>
                  {q.limit == null
                    ? t('settings.quotas.noLimit', { unit: quotaUnit(t, q) })
                    : t('settings.quotas.perDay', { limit: q.limit, unit: quotaUnit(t, q) })}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">
        {t('settings.quotas.where')} <Link to="/monitoring">{t('settings.quotas.usage')}</Link>
      </p>
    </>
  );
}

function Preferences() {
  const t = useT();
  const { lang, setLang } = useLang();
  const [init, setInit] = useState<InitStatus | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(async () => {
    try {
      setInit(await api.get<InitStatus>('/system/init'));
      setError(null);
    } catch (err) {
      setError(asApiError(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const setup = setupState();
  return (
    <>
      <div className="field">
        <label htmlFor="settings-lang">{t('settings.prefs.language')}</label>
        <select id="settings-lang" value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
          {LANGS.map((l) => (
            <option key={l} value={l}>
              {t(`lang.${l}`)}
            </option>
          ))}
        </select>
        <p className="hint">{t('settings.prefs.languageHelp')}</p>
      </div>
      {error && <ErrorNotice error={error} context="settings: init status" onRetry={load} />}
      {init && (
        <p data-testid="settings-server-lang">
          {t('settings.prefs.serverLanguage', { lang: init.language, version: init.version })}
        </p>
      )}
      <p>
        {setup === 'completed'
          ? t('settings.prefs.setupCompleted')
          : setup === 'skipped'
            ? t('settings.prefs.setupSkipped')
            : t('settings.prefs.setupNotRun')}{' '}
        <Link to="/setup">{t('settings.prefs.runSetup')}</Link>
      </p>
    </>
  );
}

export default function Settings() {
  const t = useT();
  return (
    <section className="settings" aria-labelledby="settings-title">
      <h1 id="settings-title">{t('settings.title')}</h1>

      <section aria-labelledby="settings-keys">
        <h2 id="settings-keys">{t('settings.keys.title')}</h2>
        <p className="muted">{t('settings.keys.help')}</p>
        <ProviderKeys />
      </section>

      <section aria-labelledby="settings-youtube">
        <h2 id="settings-youtube">{t('settings.youtube.title')}</h2>
        <YoutubeAccount />
      </section>

      <section aria-labelledby="settings-quotas">
        <h2 id="settings-quotas">{t('settings.quotas.title')}</h2>
        <QuotaLimits />
      </section>

      <section aria-labelledby="settings-prefs">
        <h2 id="settings-prefs">{t('settings.prefs.title')}</h2>
        <Preferences />
      </section>

      <AccessTokenSettings />

      <section aria-labelledby="settings-retention" data-testid="settings-retention">
        <h2 id="settings-retention">{t('settings.retention.title')}</h2>
        <RetentionSettings />
      </section>
    </section>
  );
}
