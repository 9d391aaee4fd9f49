import { NavLink, Outlet } from 'react-router-dom';
import { useSignIn } from '../accessToken';
import { LANGS, useLang, useT, type Lang, type MessageKey } from '../i18n';
import { AlertsBell } from './AlertsBell';
import { SignIn } from './SignIn';

const links: { to: string; label: MessageKey; end?: boolean }[] = [
  { to: '/', label: 'nav.dashboard', end: true },
  { to: '/projects/new', label: 'nav.newProject', end: true },
  { to: '/templates/prompts', label: 'nav.promptTemplates' },
  { to: '/templates/configurations', label: 'nav.configTemplates' },
  { to: '/monitoring', label: 'nav.monitoring' },
  { to: '/settings', label: 'nav.settings' },
];

function LangSwitch() {
  const t = useT();
  const { lang, setLang } = useLang();
  return (
    <label className="lang-switch">
      <span>{t('lang.label')}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="lang-switch">
        {LANGS.map((l) => (
          <option key={l} value={l}>
            {t(`lang.${l}`)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout() {
  const t = useT();
  // Until the server accepts this browser's access token, nothing but the sign-in screen can
  // load; a sign-in remounts the pages (keyed by generation) so they load their data again.
  const signIn = useSignIn();
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="top">
        <NavLink to="/" className="brand">
          {t('app.name')}
        </NavLink>
        {!signIn.required && (
          <nav aria-label={t('nav.label')}>
            <ul>
              {links.map((l) => (
                <li key={l.to}>
                  <NavLink to={l.to} end={l.end ?? false}>
                    {t(l.label)}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="top-tools">
          {!signIn.required && <AlertsBell key={signIn.generation} />}
          <LangSwitch />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {signIn.required ? <SignIn /> : <Outlet key={signIn.generation} />}
      </main>
    </>
  );
}
