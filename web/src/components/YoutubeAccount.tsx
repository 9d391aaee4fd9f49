// The linked YouTube account, shared by the setup wizard and the settings page. Linking opens
// Google's consent page in a new tab; Google sends the answer to the server's callback, which
// stores the tokens, so this page only waits until the server reports the account linked.

import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useT } from '../i18n';
import { FieldError, describedBy, fieldErrors } from './fieldErrors';
import type { KeyStatus } from './ProviderKeys';

interface Channel {
  id: string;
  title: string;
}

type Account =
  | { state: 'loading' }
  | { state: 'unlinked' }
  | { state: 'linked'; channel: Channel }
  | { state: 'failed'; error: ApiError };

const POLL_MS = 2000;

export function YoutubeAccount({ onLinked }: { onLinked?: (channel: Channel) => void }) {
  const t = useT();
  const [account, setAccount] = useState<Account>({ state: 'loading' });
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [authorizeUrl, setAuthorizeUrl] = useState<string | null>(null);
  const [actionError, setActionError] = useState<{ error: ApiError; action: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [tested, setTested] = useState<string | null>(null);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const onLinkedRef = useRef(onLinked);
  onLinkedRef.current = onLinked;

  // Whether tokens are stored comes from the key list (no call to YouTube); the channel's name
  // needs one call, made only when tokens exist.
  const refresh = useCallback(async (): Promise<boolean> => {
    try {
      const keys = await api.get<KeyStatus[]>('/keys');
      if (!keys.some((k) => k.provider === 'youtube' && k.stored)) {
        setAccount({ state: 'unlinked' });
        return false;
      }
      const channel = await api.get<Channel>('/youtube/channel');
      setAccount({ state: 'linked', channel });
      return true;
    } catch (err) {
      setAccount({ state: 'failed', error: asApiError(err) });
      return true;
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // After the consent page was opened, wait for the server's callback to have stored the tokens.
  useEffect(() => {
    if (!authorizeUrl) return;
    let live = true;
    const timer = window.setInterval(() => {
      void refresh().then((done) => {
        if (done && live) {
          setAuthorizeUrl(null);
        }
      });
    }, POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [authorizeUrl, refresh]);

  useEffect(() => {
    if (account.state === 'linked') onLinkedRef.current?.(account.channel);
  }, [account]);

  const startLogin = async (e?: FormEvent) => {
    e?.preventDefault();
    if (clientId.trim() === '') {
      setLocalErrors({ client_id: t('youtube.clientIdRequired') });
      return;
    }
    setLocalErrors({});
    setBusy(true);
    setActionError(null);
    try {
      const body: { client_id: string; client_secret?: string } = { client_id: clientId.trim() };
      if (clientSecret !== '') body.client_secret = clientSecret;
      const started = await api.send<{ authorize_url: string }>('POST', '/youtube/login', body);
      setClientSecret('');
      setAuthorizeUrl(started.authorize_url);
      window.open(started.authorize_url, '_blank', 'noopener');
    } catch (err) {
      setActionError({ error: asApiError(err), action: 'login' });
    } finally {
      setBusy(false);
    }
  };

  const unlink = async () => {
    setBusy(true);
    setActionError(null);
    try {
      await api.send<void>('DELETE', '/youtube/channel');
      setTested(null);
      setAccount({ state: 'unlinked' });
    } catch (err) {
      setActionError({ error: asApiError(err), action: 'unlink' });
    } finally {
      setBusy(false);
    }
  };

  const test = async () => {
    setBusy(true);
    setActionError(null);
    try {
      const result = await api.send<{ message: string }>('POST', '/keys/youtube/test');
      setTested(result.message);
    } catch (err) {
      setActionError({ error: asApiError(err), action: 'test' });
    } finally {
      setBusy(false);
    }
  };

  const serverErrors = actionError?.action === 'login' ? fieldErrors(actionError.error) : {};
  const errors = { ...serverErrors, ...localErrors };

  return (
    <div className="youtube-account" data-testid="youtube-account">
      {account.state === 'loading' && <p role="status">{t('common.loading')}</p>}
      {account.state === 'failed' && (
        <>
          <ErrorNotice error={account.error} context="youtube: channel" onRetry={async () => void (await refresh())} />
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void unlink()} data-testid="youtube-unlink">
              {t('youtube.unlink')}
            </button>
          </div>
        </>
      )}
      {account.state === 'linked' && (
        <>
          <p data-testid="youtube-linked">{t('youtube.linkedTo', { title: account.channel.title })}</p>
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void test()} data-testid="youtube-test">
              {t('youtube.test')}
            </button>
            <button type="button" disabled={busy} onClick={() => void unlink()} data-testid="youtube-unlink">
              {t('youtube.unlink')}
            </button>
          </div>
          <div role="status" aria-live="polite">
            {tested && <p className="ok">{t('keys.testOk', { message: tested })}</p>}
          </div>
        </>
      )}
      {(account.state === 'unlinked' || account.state === 'failed') && (
        <form onSubmit={(e) => void startLogin(e)} className="stacked-form" noValidate>
          <p data-testid="youtube-unlinked">{t('youtube.notLinked')}</p>
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
        <ErrorNotice
          error={actionError.error}
          context={`youtube: ${actionError.action}`}
          onRetry={actionError.action === 'test' ? test : actionError.action === 'unlink' ? unlink : startLogin}
        />
      )}
    </div>
  );
}
