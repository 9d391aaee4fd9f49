// Settings: the providers' keys (masked), the YouTube account, the daily quota limits,
// preferences, and what is kept on disk. The server has no retention setting yet, so that section states what is kept and where
// instead of offering a control that would do nothing.

import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { ApiError, api, asApiError } from '../api';
import { ProviderKeys } from '../components/ProviderKeys';
import { YoutubeAccount } from '../components/YoutubeAccount';
import { ErrorNotice } from '../errors';
import { LANGS, useLang, useT, type Lang, type MessageKey } from '../i18n';
import { setupState } from '../setupState';

interface InitStatus {
  has_projects: boolean;
  language: string;
  version: string;
}

const keptFiles: { path: string; what: MessageKey }[] = [
  { path: '<data>/ytmaker.db', what: 'settings.retention.database' },
  { path: '<data>/projects/<id>/input.txt, script.json', what: 'settings.retention.inputs' },
  { path: '<data>/projects/<id>/audio/, images/, avatar/, segments/, work/', what: 'settings.retention.intermediates' },
  { path: '<data>/projects/<id>/output/', what: 'settings.retention.outputs' },
  { path: '<data>/logs/', what: 'settings.retention.logs' },
];

interface QuotaStatus {
  provider: string;
  unit: string;
  used: number;
  limit: number | null;
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
                <th scope="row">{q.provider}</th>
                <td>
                  {q.limit === null
                    ? t('settings.quotas.noLimit', { unit: q.unit })
                    : t('settings.quotas.perDay', { limit: q.limit, unit: q.unit })}
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

      <section aria-labelledby="settings-retention" data-testid="settings-retention">
        <h2 id="settings-retention">{t('settings.retention.title')}</h2>
        <p>{t('settings.retention.notConfigurable')}</p>
        <table>
          <caption className="visually-hidden">{t('settings.retention.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('settings.retention.where')}</th>
              <th scope="col">{t('settings.retention.what')}</th>
            </tr>
          </thead>
          <tbody>
            {keptFiles.map((f) => (
              <tr key={f.path}>
                <td>
                  <code>{f.path}</code>
                </td>
                <td>{t(f.what)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted">{t('settings.retention.dataDir')}</p>
      </section>
    </section>
  );
}
