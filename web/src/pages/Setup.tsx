// The first-run wizard: language, the cloud providers' keys (each tested live), the YouTube
// account. Every step can be skipped; everything here can be done later in Settings.

import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { ProviderKeys } from '../components/ProviderKeys';
import { YoutubeAccount } from '../components/YoutubeAccount';
import { LANGS, useLang, useT, type Lang, type MessageKey } from '../i18n';
import { markSetup } from '../setupState';

const STEPS = ['language', 'keys', 'youtube', 'done'] as const;
type Step = (typeof STEPS)[number];

const stepTitles: Record<Step, MessageKey> = {
  language: 'setup.step.language',
  keys: 'setup.step.keys',
  youtube: 'setup.step.youtube',
  done: 'setup.step.done',
};

export default function Setup() {
  const t = useT();
  const { lang, setLang } = useLang();
  const [step, setStep] = useState<Step>('language');
  const [skipped, setSkipped] = useState<Step[]>([]);
  const index = STEPS.indexOf(step);
  const stepHeading = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);
  // Moving to another step puts the keyboard at its heading, not at the top of the page.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    stepHeading.current?.focus();
  }, [step]);

  const go = (next: Step) => {
    if (next === 'done') markSetup(skipped.length > 0 ? 'skipped' : 'completed');
    setStep(next);
  };
  const nextStep = (): Step => STEPS[index + 1] ?? 'done';
  const skip = () => {
    const next = nextStep();
    setSkipped((s) => (s.includes(step) ? s : [...s, step]));
    if (next === 'done') markSetup('skipped');
    setStep(next);
  };
  const skipAll = () => {
    markSetup('skipped');
    setSkipped(STEPS.filter((s, i) => i >= index && s !== 'done'));
    setStep('done');
  };

  return (
    <section className="setup" aria-labelledby="setup-title">
      <h1 id="setup-title">{t('setup.title')}</h1>
      <ol className="steps" aria-label={t('setup.progress')}>
        {STEPS.map((s, i) => (
          <li key={s} aria-current={s === step ? 'step' : undefined} className={i < index ? 'done' : undefined}>
            {t(stepTitles[s])}
          </li>
        ))}
      </ol>
      <h2 data-testid="setup-step" ref={stepHeading} tabIndex={-1}>{t(stepTitles[step])}</h2>

      {step === 'language' && (
        <fieldset>
          <legend>{t('setup.language.legend')}</legend>
          {LANGS.map((l: Lang) => (
            <label key={l} className="radio">
              <input type="radio" name="setup-lang" value={l} checked={lang === l} onChange={() => setLang(l)} />
              {t(`lang.${l}`)}
            </label>
          ))}
        </fieldset>
      )}

      {step === 'keys' && (
        <>
          <p>{t('setup.keys.intro')}</p>
          <ProviderKeys />
        </>
      )}

      {step === 'youtube' && (
        <>
          <p>{t('setup.youtube.intro')}</p>
          <YoutubeAccount />
        </>
      )}

      {step === 'done' && (
        <div data-testid="setup-done">
          <p>{skipped.length > 0 ? t('setup.done.skipped') : t('setup.done.completed')}</p>
          {skipped.length > 0 && (
            <ul>
              {skipped.map((s) => (
                <li key={s}>{t(stepTitles[s])}</li>
              ))}
            </ul>
          )}
          <p>{t('setup.done.later')}</p>
          <div className="actions">
            <Link className="button primary" to="/projects/new">
              {t('setup.done.newProject')}
            </Link>
            <Link className="button" to="/settings">
              {t('nav.settings')}
            </Link>
            <Link className="button" to="/">
              {t('nav.dashboard')}
            </Link>
          </div>
        </div>
      )}

      {step !== 'done' && (
        <div className="actions wizard-actions">
          {index > 0 && (
            <button type="button" onClick={() => setStep(STEPS[index - 1] ?? 'language')}>
              {t('common.back')}
            </button>
          )}
          <button type="button" className="primary" onClick={() => go(nextStep())} data-testid="setup-next">
            {t('common.next')}
          </button>
          {step !== 'language' && (
            <button type="button" onClick={skip} data-testid="setup-skip">
              {t('setup.skipStep')}
            </button>
          )}
          <button type="button" onClick={skipAll} data-testid="setup-skip-all">
            {t('setup.skipAll')}
          </button>
        </div>
      )}
    </section>
  );
}
