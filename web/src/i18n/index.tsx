import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en } from './en';
import { zhTW, type MessageKey } from './zh-TW';

export type { MessageKey } from './zh-TW';
export type Lang = 'zh-TW' | 'en';
export const LANGS: readonly Lang[] = ['zh-TW', 'en'];
const STORAGE_KEY = 'ytmaker.lang';
const tables: Record<Lang, Record<MessageKey, string>> = { 'zh-TW': zhTW, en };

export type Vars = Record<string, string | number>;
export type Translate = (key: MessageKey, vars?: Vars) => string;

function readStoredLang(): Lang {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  return stored === 'en' || stored === 'zh-TW' ? stored : 'zh-TW';
}

// The API client runs outside React and needs the language for Accept-Language and for the
// messages of failures it builds itself; the provider keeps this in step with its state.
let activeLang: Lang = readStoredLang();

export function currentLang(): Lang {
  return activeLang;
}

function format(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in vars ? String(vars[name]) : whole,
  );
}

/** Translation outside components (the API client); components use `useT()`. */
export function translate(key: MessageKey, vars?: Vars): string {
  return format(tables[activeLang][key], vars);
}

interface LangState {
  lang: Lang;
  setLang: (lang: Lang) => void;
}

const LangContext = createContext<LangState | null>(null);

export function LangProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(activeLang);
  const setLang = useCallback((next: Lang) => {
    activeLang = next;
    window.localStorage.setItem(STORAGE_KEY, next);
    setLangState(next);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo(() => ({ lang, setLang }), [lang, setLang]);
  return <LangContext.Provider value={value}>{children}</LangContext.Provider>;
}

export function useLang(): LangState {
  const state = useContext(LangContext);
  if (!state) throw new Error('useLang() outside <LangProvider>');
  return state;
}

export function useT(): Translate {
  const { lang } = useLang();
  return useCallback((key: MessageKey, vars?: Vars) => format(tables[lang][key], vars), [lang]);
}
