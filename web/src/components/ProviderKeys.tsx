// The cloud providers' API keys, shared by the setup wizard and the settings page. A key goes to
// the server and is never held or shown again: the input is cleared once the server has stored
// it, and only the server's masked hint is displayed.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useT, type MessageKey } from '../i18n';
import { FieldError, describedBy, fieldErrors } from './fieldErrors';
import { CONTRACT } from '../contract';
import type { components } from '../generated/api';

export const KEY_PROVIDERS = CONTRACT.key_providers;
export type KeyProvider = (typeof KEY_PROVIDERS)[number];

export type KeyStatus = components['schemas']['KeyStatus'];

interface KeyTest {
  provider: string;
  message: string;
}

const providerNames: Record<KeyProvider, MessageKey> = {
  gemini: 'keys.provider.gemini',
  openai_compatible: 'keys.provider.openai_compatible',
  google_tts: 'keys.provider.google_tts',
  stability: 'keys.provider.stability',
  did: 'keys.provider.did',
};

type Outcome =
  | { kind: 'none' }
  | { kind: 'saved' }
  | { kind: 'deleted' }
  | { kind: 'tested'; message: string }
  | { kind: 'failed'; error: ApiError; action: 'save' | 'test' | 'delete' };

function KeyRow({
  provider,
  status,
  onStatus,
}: {
  provider: KeyProvider;
  status: KeyStatus | undefined;
  onStatus: (s: KeyStatus) => void;
}) {
  const t = useT();
  const [draft, setDraft] = useState('');
  // openai_compatible: the server the key is for (empty: the server's own `[llm].base_url`).
  const [server, setServer] = useState('');
  const bound = provider === 'openai_compatible';
  const [busy, setBusy] = useState<'save' | 'test' | 'delete' | null>(null);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'none' });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const form = `key-${provider}`;
  const inputId = `${form}-value`;
  const stored = status?.stored ?? false;
  const [emptyDraft, setEmptyDraft] = useState(false);
  const errors = emptyDraft
    ? { value: t('keys.emptyKey') }
    : outcome.kind === 'failed' && outcome.action === 'save'
      ? fieldErrors(outcome.error)
      : {};

  const save = async () => {
    if (draft.trim() === '') {
      setEmptyDraft(true);
      return;
    }
    setEmptyDraft(false);
    setBusy('save');
    try {
      const body = bound && server.trim() !== '' ? { value: draft, base_url: server.trim() } : { value: draft };
      const saved = await api.send<KeyStatus>('PUT', `/keys/${provider}`, body);
      // The key is in the server's encrypted store now; the page keeps no copy of it.
      setDraft('');
      onStatus(saved);
      setOutcome({ kind: 'saved' });
    } catch (err) {
      setOutcome({ kind: 'failed', error: asApiError(err), action: 'save' });
    } finally {
      setBusy(null);
    }
  };

  const test = async () => {
    setBusy('test');
    try {
      const result = await api.send<KeyTest>('POST', `/keys/${provider}/test`);
      setOutcome({ kind: 'tested', message: result.message });
    } catch (err) {
      setOutcome({ kind: 'failed', error: asApiError(err), action: 'test' });
    } finally {
      setBusy(null);
    }
  };

  const remove = async () => {
    setConfirmDelete(false);
    setBusy('delete');
    try {
      await api.send<void>('DELETE', `/keys/${provider}`);
      onStatus({ provider, stored: false, hint: null, server: null });
      setOutcome({ kind: 'deleted' });
    } catch (err) {
      setOutcome({ kind: 'failed', error: asApiError(err), action: 'delete' });
    } finally {
      setBusy(null);
    }
  };

  const retryFor = (action: 'save' | 'test' | 'delete') =>
    action === 'test' ? test : action === 'delete' ? remove : save;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save();
  };

  return (
    <li className="key-row" data-testid={`key-row-${provider}`}>
      <h3>{t(providerNames[provider])}</h3>
      <p data-testid={`key-state-${provider}`}>
        {stored && status?.hint
          ? t('keys.storedHint', { hint: status.hint })
          : stored
            ? t('keys.stored')
            : t('keys.notStored')}
        {stored && status?.server && <span data-testid={`key-server-${provider}`}> {t('keys.sentOnlyTo', { server: status.server })}</span>}
      </p>
      <form onSubmit={submit} className="inline-form" noValidate>
        <label htmlFor={inputId}>{stored ? t('keys.replaceLabel') : t('keys.setLabel')}</label>
        <input
          id={inputId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          data-testid={`key-input-${provider}`}
          {...describedBy(form, 'value', errors)}
        />
        {bound && (
          <>
            <label htmlFor={`${form}-server`}>{t('keys.serverLabel')}</label>
            <input
              id={`${form}-server`}
              type="url"
              spellCheck={false}
              placeholder={t('keys.serverPlaceholder')}
              value={server}
              onChange={(e) => setServer(e.target.value)}
              data-testid={`key-server-input-${provider}`}
              {...describedBy(form, 'base_url', errors)}
            />
          </>
        )}
        <button type="submit" className="primary" disabled={busy !== null} data-testid={`key-save-${provider}`}>
          {busy === 'save' ? t('keys.saving') : t('common.save')}
        </button>
        <button
          type="button"
          disabled={busy !== null || !stored}
          onClick={() => void test()}
          data-testid={`key-test-${provider}`}
        >
          {busy === 'test' ? t('keys.testing') : t('keys.test')}
        </button>
        {!confirmDelete ? (
          <button
            type="button"
            disabled={busy !== null || !stored}
            onClick={() => setConfirmDelete(true)}
            data-testid={`key-delete-${provider}`}
          >
            {t('keys.delete')}
          </button>
        ) : (
          <span className="confirm" role="group" aria-label={t('keys.confirmDelete')}>
            <span>{t('keys.confirmDelete')}</span>
            <button type="button" className="danger" onClick={() => void remove()} data-testid={`key-delete-confirm-${provider}`}>
              {t('common.yes')}
            </button>
            <button type="button" onClick={() => setConfirmDelete(false)}>
              {t('common.no')}
            </button>
          </span>
        )}
      </form>
      <FieldError form={form} field="value" errors={errors} />
      {bound && <FieldError form={form} field="base_url" errors={errors} />}
      <div role="status" aria-live="polite">
        {outcome.kind === 'saved' && <p className="ok" data-testid={`key-saved-${provider}`}>{t('keys.saved')}</p>}
        {outcome.kind === 'deleted' && <p className="ok">{t('keys.deleted')}</p>}
        {outcome.kind === 'tested' && (
          <p className="ok" data-testid={`key-test-ok-${provider}`}>
            {t('keys.testOk', { message: outcome.message })}
          </p>
        )}
      </div>
      {outcome.kind === 'failed' && (
        <ErrorNotice
          error={outcome.error}
          context={`keys: ${outcome.action} ${provider}`}
          onRetry={retryFor(outcome.action)}
        />
      )}
    </li>
  );
}

export function ProviderKeys() {
  const t = useT();
  const [keys, setKeys] = useState<KeyStatus[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(async () => {
    try {
      setKeys(await api.get<KeyStatus[]>('/keys'));
      setError(null);
    } catch (err) {
      setError(asApiError(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const update = (s: KeyStatus) =>
    setKeys((all) => (all ?? []).filter((k) => k.provider !== s.provider).concat([s]));
  if (error) return <ErrorNotice error={error} context="keys: list" onRetry={load} />;
  if (!keys) return <p role="status">{t('common.loading')}</p>;
  return (
    <ul className="key-list">
      {KEY_PROVIDERS.map((p) => (
        <KeyRow key={p} provider={p} status={keys.find((k) => k.provider === p)} onStatus={update} />
      ))}
    </ul>
  );
}
