// The linked YouTube accounts, shared by the setup wizard and the settings page: the list (title,
// channel id, which is the default), make default, remove (after a confirmation), test, and
// linking another one. Linking opens Google's consent page in a new tab; Google sends the answer
// to the server's callback, which stores the tokens, so this page only waits until the server
// lists the account. Tokens never reach the page: the list carries ids and titles only.

import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useT } from '../i18n';
import { FieldError, describedBy, fieldErrors } from './fieldErrors';

export interface LinkedYoutubeAccount {
  channel_id: string;
  channel_title: string;
  linked_at: string;
  is_default: boolean;
}

type Accounts =
  | { state: 'loading' }
  | { state: 'loaded'; accounts: LinkedYoutubeAccount[] }
  | { state: 'failed'; error: ApiError };

const POLL_MS = 2000;

/** The newest link time in `accounts`, to tell when a login has finished. */
function newestLink(accounts: LinkedYoutubeAccount[]): string {
  return accounts.reduce((max, a) => (a.linked_at > max ? a.linked_at : max), '');
}

export function YoutubeAccount({ onLinked }: { onLinked?: (accounts: LinkedYoutubeAccount[]) => void }) {
  const t = useT();
  const [accounts, setAccounts] = useState<Accounts>({ state: 'loading' });
  const [linking, setLinking] = useState(false);
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [authorizeUrl, setAuthorizeUrl] = useState<string | null>(null);
  const [actionError, setActionError] = useState<{ error: ApiError; action: string; retry: () => Promise<void> } | null>(null);
  const [busy, setBusy] = useState(false);
  const [tested, setTested] = useState<string | null>(null);
  const [confirmRemove, setConfirmRemove] = useState<string | null>(null);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const linkedBefore = useRef('');
  const onLinkedRef = useRef(onLinked);
  onLinkedRef.current = onLinked;

  const refresh = useCallback(async (): Promise<LinkedYoutubeAccount[] | null> => {
    try {
      const list = await api.get<LinkedYoutubeAccount[]>('/youtube/accounts');
      setAccounts({ state: 'loaded', accounts: list });
      return list;
    } catch (err) {
      setAccounts({ state: 'failed', error: asApiError(err) });
      return null;
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // After the consent page was opened, wait until the server's callback has stored an account
  // (a new one, or a re-linked one with a newer link time).
  useEffect(() => {
    if (!authorizeUrl) return;
    let live = true;
    const timer = window.setInterval(() => {
      void refresh().then((list) => {
        if (live && list && newestLink(list) > linkedBefore.current) {
          setAuthorizeUrl(null);
          setLinking(false);
        }
      });
    }, POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [authorizeUrl, refresh]);

  useEffect(() => {
    if (accounts.state === 'loaded' && accounts.accounts.length > 0) onLinkedRef.current?.(accounts.accounts);
  }, [accounts]);

  const act = async (action: string, run: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    try {
      await run();
    } catch (err) {
      setActionError({ error: asApiError(err), action, retry: () => act(action, run) });
    } finally {
      setBusy(false);
    }
  };

  const startLogin = async (e?: FormEvent) => {
    e?.preventDefault();
    if (clientId.trim() === '') {
      setLocalErrors({ client_id: t('youtube.clientIdRequired') });
      return;
    }
    setLocalErrors({});
    await act('login', async () => {
      const body: { client_id: string; client_secret?: string } = { client_id: clientId.trim() };
      if (clientSecret !== '') body.client_secret = clientSecret;
      const started = await api.send<{ authorize_url: string }>('POST', '/youtube/login', body);
      setClientSecret('');
      linkedBefore.current = accounts.state === 'loaded' ? newestLink(accounts.accounts) : '';
      setAuthorizeUrl(started.authorize_url);
      window.open(started.authorize_url, '_blank', 'noopener');
    });
  };

  const makeDefault = (channelId: string) =>
    act('default', async () => {
      await api.send('PUT', `/youtube/accounts/${encodeURIComponent(channelId)}/default`);
      setTested(null);
      await refresh();
    });

  const remove = (channelId: string) =>
    act('remove', async () => {
      setConfirmRemove(null);
      await api.send<void>('DELETE', `/youtube/accounts/${encodeURIComponent(channelId)}`);
      setTested(null);
      await refresh();
    });

  // Unlinks an account an earlier version linked that YouTube now refuses (it cannot be listed).
  const unlinkOld = () =>
    act('unlink', async () => {
      await api.send<void>('DELETE', '/youtube/channel');
      await refresh();
    });

  const test = () =>
    act('test', async () => {
      const result = await api.send<{ message: string }>('POST', '/keys/youtube/test');
      setTested(result.message);
    });

  const serverErrors = actionError?.action === 'login' ? fieldErrors(actionError.error) : {};
  const errors = { ...serverErrors, ...localErrors };
  const list = accounts.state === 'loaded' ? accounts.accounts : [];
  const showForm = accounts.state === 'failed' || (accounts.state === 'loaded' && (list.length === 0 || linking));

  return (
    <div className="youtube-account" data-testid="youtube-account">
      {accounts.state === 'loading' && <p role="status">{t('common.loading')}</p>}
      {accounts.state === 'failed' && (
        <>
          <ErrorNotice error={accounts.error} context="youtube: accounts" onRetry={async () => void (await refresh())} />
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void unlinkOld()} data-testid="youtube-unlink">
              {t('youtube.unlink')}
            </button>
          </div>
        </>
      )}
      {list.length > 0 && (
        <>
          <ul className="youtube-accounts" data-testid="youtube-accounts" aria-label={t('youtube.accounts')}>
            {list.map((a) => (
              <li key={a.channel_id} data-testid={`youtube-account-${a.channel_id}`}>
                <strong>{a.channel_title}</strong> <code>{a.channel_id}</code>{' '}
                {a.is_default && (
                  <span className="badge ok" data-testid="youtube-default-badge">
                    {t('youtube.default')}
                  </span>
                )}
                <span className="actions">
                  {!a.is_default && (
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => void makeDefault(a.channel_id)}
                      data-testid={`youtube-make-default-${a.channel_id}`}
                    >
                      {t('youtube.makeDefault')}
                    </button>
                  )}
                  {confirmRemove !== a.channel_id ? (
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => setConfirmRemove(a.channel_id)}
                      data-testid={`youtube-remove-${a.channel_id}`}
                    >
                      {t('youtube.remove')}
                    </button>
                  ) : (
                    <span className="confirm" role="group" aria-label={t('youtube.confirmRemove', { title: a.channel_title })}>
                      <span>{t('youtube.confirmRemove', { title: a.channel_title })}</span>
                      <button
                        type="button"
                        className="danger"
                        onClick={() => void remove(a.channel_id)}
                        data-testid={`youtube-remove-confirm-${a.channel_id}`}
                      >
                        {t('common.yes')}
                      </button>
                      <button type="button" onClick={() => setConfirmRemove(null)}>
                        {t('common.no')}
                      </button>
                    </span>
                  )}
                </span>
              </li>
            ))}
          </ul>
          <p className="muted">{t('youtube.defaultHelp')}</p>
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void test()} data-testid="youtube-test">
              {t('youtube.test')}
            </button>
            {!linking && (
              <button type="button" disabled={busy} onClick={() => setLinking(true)} data-testid="youtube-link-another">
                {t('youtube.linkAnother')}
              </button>
            )}
          </div>
          <div role="status" aria-live="polite">
            {tested && (
              <p className="ok" data-testid="youtube-test-ok">
                {t('keys.testOk', { message: tested })}
              </p>
            )}
          </div>
        </>
      )}
      {showForm && (
        <form onSubmit={(e) => void startLogin(e)} className="stacked-form" noValidate>
          {list.length === 0 && <p data-testid="youtube-unlinked">{t('youtube.notLinked')}</p>}
          <p className="muted">{t('youtube.clientHelp')}</p>
          <label htmlFor="youtube-client-id">{t('youtube.clientId')}</label>
          <input
            id="youtube-client-id"
            value={clientId}
            autoComplete="off"
            onChange={(e) => setClientId(e.target.value)}
            data-testid="youtube-client-id"
            {...describedBy('youtube', 'client_id', errors)}
          />
          <FieldError form="youtube" field="client_id" errors={errors} />
          <label htmlFor="youtube-client-secret">{t('youtube.clientSecret')}</label>
          <input
            id="youtube-client-secret"
            type="password"
            autoComplete="off"
            value={clientSecret}
            onChange={(e) => setClientSecret(e.target.value)}
          />
          <div className="actions">
            <button type="submit" className="primary" disabled={busy} data-testid="youtube-link">
              {t('youtube.link')}
            </button>
            {linking && list.length > 0 && (
              <button type="button" disabled={busy} onClick={() => setLinking(false)}>
                {t('common.cancel')}
              </button>
            )}
          </div>
          {authorizeUrl && (
            <p role="status" data-testid="youtube-waiting">
              {t('youtube.waiting')}{' '}
              <a href={authorizeUrl} target="_blank" rel="noopener noreferrer">
                {t('youtube.openConsent')}
              </a>
            </p>
          )}
        </form>
      )}
      {actionError && (
        <ErrorNotice error={actionError.error} context={`youtube: ${actionError.action}`} onRetry={actionError.retry} />
      )}
    </div>
  );
}
