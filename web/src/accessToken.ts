// The server's access token (SPEC §8) as this browser holds it. A server bound beyond loopback
// refuses every API request without it (401 UNAUTHORIZED); its UI files load without it, so the
// page can ask for it. The token arrives from the sign-in link `ytmaker serve` prints
// (`/#access_token=…` — a fragment, which the browser never sends to the server) or from the
// sign-in screen, and is kept in localStorage. It is only ever sent: as `Authorization: Bearer`
// by api.ts, and as `?access_token=` on what a browser fetches by URL without letting us set
// headers (the WebSocket, <video>/<img> sources, download links). It is never shown, logged or
// reported.

import { useSyncExternalStore } from 'react';

const STORAGE_KEY = 'ytmaker.accessToken';
const PARAM = 'access_token';

let token: string | null = window.localStorage.getItem(STORAGE_KEY);

/** Adopts the token of a sign-in link (`#access_token=…`). Run once before the app renders. */
export function adoptTokenFromAddress(): void {
  takeTokenFromAddress();
  // A sign-in link opened in a tab that already shows the UI changes only the fragment, which
  // does not reload the page: adopt it then, and load the pages again with it.
  window.addEventListener('hashchange', () => {
    if (takeTokenFromAddress()) signedIn();
  });
}

/** Takes `#access_token=…` out of the address: stores the token, then removes it from the address
 * bar and the history entry, so it is neither bookmarked nor shown. True when one was there. */
function takeTokenFromAddress(): boolean {
  const hash = window.location.hash.replace(/^#/, '');
  if (hash === '') return false;
  const params = new URLSearchParams(hash);
  const given = params.get(PARAM);
  if (given === null) return false;
  params.delete(PARAM);
  if (given !== '') storeAccessToken(given);
  const rest = params.toString();
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, '', `${pathname}${search}${rest === '' ? '' : `#${rest}`}`);
  return given !== '';
}

export function hasAccessToken(): boolean {
  return token !== null;
}

export function storeAccessToken(value: string): void {
  token = value;
  window.localStorage.setItem(STORAGE_KEY, value);
}

export function forgetAccessToken(): void {
  token = null;
  window.localStorage.removeItem(STORAGE_KEY);
}

/** The `Authorization` header for an API request (none without a token). */
export function authorizationHeader(): Record<string, string> {
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}

/** `url` with the token as its `access_token` query value, for what the browser fetches by URL
 * (the WebSocket, media sources, download links); unchanged without a token. */
export function withToken(url: string): string {
  if (token === null) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${PARAM}=${encodeURIComponent(token)}`;
}

// ---- whether the user must sign in ---------------------------------------------------------

interface SignInState {
  /** An API call was refused for want of the right token: the layout shows the sign-in screen. */
  required: boolean;
  /** Grows at each sign-in, so the pages (keyed by it) load their data again. */
  generation: number;
}

let state: SignInState = { required: false, generation: 0 };
const listeners = new Set<() => void>();

function publish(next: SignInState): void {
  state = next;
  for (const listener of listeners) listener();
}

/** Called by api.ts when the server answers 401 UNAUTHORIZED. */
export function requireSignIn(): void {
  if (!state.required) publish({ ...state, required: true });
}

/** The token was accepted: leave the sign-in screen and reload every page's data. */
export function signedIn(): void {
  publish({ required: false, generation: state.generation + 1 });
}

/** Forgets the token (Settings → sign out); the pages load again, and a server that requires
 * the token answers 401, which brings up the sign-in screen. */
export function signOut(): void {
  forgetAccessToken();
  publish({ required: false, generation: state.generation + 1 });
}

export function useSignIn(): SignInState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}
