// The sign-in screen the layout shows instead of the page when the server refused a request for
// want of its access token (401 UNAUTHORIZED): it says where the token comes from, checks the
// one entered against the server before keeping it, and shows a refusal at the field with its
// code and trace id (errors.tsx policy).

import { useState, type FormEvent } from 'react';
import { forgetAccessToken, hasAccessToken, signOut, signedIn, storeAccessToken } from '../accessToken';
import { ApiError, UNAUTHORIZED, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useT } from '../i18n';
import { Field } from './Field';

export function SignIn() {
  const t = useT();
  const [value, setValue] = useState('');
  const [empty, setEmpty] = useState(false);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    const candidate = value.trim();
    setEmpty(candidate === '');
    if (candidate === '') return;
    setChecking(true);
    setError(null);
    storeAccessToken(candidate);
    try {
      // Any API call would do: this one is cheap and answers 200 to a request with the token.
      await api.get('/system/init');
      signedIn();
    } catch (e) {
      const failure = asApiError(e);
      // A refused token is not kept; one that could not be checked (no connection) is kept,
      // and Retry checks it again.
      if (failure.code === UNAUTHORIZED) forgetAccessToken();
      setError(failure);
    } finally {
      setChecking(false);
    }
  };

  return (
    <section className="sign-in" aria-labelledby="sign-in-title" data-testid="sign-in">
      <h1 id="sign-in-title">{t('signin.title')}</h1>
      <p>{t('signin.explain')}</p>
      <p>{t('signin.where')}</p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field name="access_token" label={t('signin.label')} hint={t('signin.hint')} error={empty ? t('signin.empty') : undefined}>
          {(props) => (
            <input
              {...props}
              aria-invalid={empty || error?.code === UNAUTHORIZED}
              type="password"
              autoComplete="current-password"
              spellCheck={false}
              value={value}
              onChange={(e) => setValue(e.target.value)}
              data-testid="access-token-input"
            />
          )}
        </Field>
        {error && (
          <div data-testid="sign-in-error">
            <ErrorNotice error={error} context="sign-in" onRetry={() => submit()} />
          </div>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={checking} data-testid="sign-in-submit">
            {checking ? t('signin.checking') : t('signin.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}

/** Settings: shown only while this browser keeps a token; signing out forgets it. */
export function AccessTokenSettings() {
  const t = useT();
  if (!hasAccessToken()) return null;
  return (
    <section aria-labelledby="settings-access" data-testid="settings-access">
      <h2 id="settings-access">{t('settings.access.title')}</h2>
      <p>{t('settings.access.stored')}</p>
      <button type="button" onClick={signOut} data-testid="sign-out">
        {t('settings.access.signOut')}
      </button>
    </section>
  );
}
