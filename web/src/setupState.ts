// Whether the first-run wizard was finished or skipped, remembered in this browser. The
// dashboard offers the wizard while this is unset (and the server has no project yet).

const STORAGE_KEY = 'ytmaker.setup';

export type SetupState = 'completed' | 'skipped';

export function setupState(): SetupState | null {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  return stored === 'completed' || stored === 'skipped' ? stored : null;
}

export function markSetup(state: SetupState): void {
  window.localStorage.setItem(STORAGE_KEY, state);
}
