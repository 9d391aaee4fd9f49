// The state both template managers share: the list and its load error, the last action's error
// with its retry, the deletion being confirmed, and the notice saying what was just done.

import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, asApiError } from './api';
import { useT } from './i18n';

export interface ActionError {
  error: ApiError;
  retry: () => Promise<void>;
}

export function useTemplateList<T extends { id: string; name: string }>(path: string) {
  const t = useT();
  const [templates, setTemplates] = useState<T[] | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [actionError, setActionError] = useState<ActionError | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTemplates(await api.get<T[]>(path));
      setLoadError(null);
    } catch (err) {
      setLoadError(asApiError(err));
    }
  }, [path]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (action: () => Promise<string>) => {
    setActionError(null);
    try {
      const done = await action();
      await load();
      setNotice(done);
    } catch (err) {
      setActionError({ error: asApiError(err), retry: () => act(action) });
    }
  };
  const duplicate = (tpl: T) =>
    act(async () => {
      const copy = await api.send<T>('POST', `${path}/${tpl.id}/duplicate`);
      return t('templates.duplicated', { name: copy.name });
    });
  /** Deletes `tpl`; `after` runs once the server has deleted it. */
  const remove = (tpl: T, after?: () => void) =>
    act(async () => {
      setConfirming(null);
      await api.send<void>('DELETE', `${path}/${tpl.id}`);
      after?.();
      return t('templates.deleted', { name: tpl.name });
    });

  return { templates, loadError, actionError, confirming, setConfirming, notice, setNotice, load, duplicate, remove };
}
