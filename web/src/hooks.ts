import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, asApiError } from './api';

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'ready'; data: T }
  | { state: 'failed'; error: ApiError };

/** GETs `path` (again whenever it changes or `reload()` is called). */
export function useApi<T>(path: string | null): [Loaded<T>, () => Promise<void>] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const load = useCallback(async () => {
    if (path === null) return;
    try {
      const data = await api.get<T>(path);
      setLoaded({ state: 'ready', data });
    } catch (e) {
      setLoaded({ state: 'failed', error: asApiError(e) });
    }
  }, [path]);
  useEffect(() => {
    setLoaded({ state: 'loading' });
    void load();
  }, [load]);
  return [loaded, load];
}
