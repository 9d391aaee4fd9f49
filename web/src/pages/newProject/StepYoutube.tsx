// The wizard's youtube step.

import { useEffect } from 'react';
import { Field } from '../../components/Field';
import type { LinkedYoutubeAccount } from '../../components/YoutubeAccount';
import { ErrorNotice } from '../../errors';
import { useApi } from '../../hooks';
import { useT } from '../../i18n';
import {
  MAX_TAGS,
  TITLE_MAX_CHARS,
  chars,
  parseTags,
} from '../../projects';

import { PRIVACIES, Draft, StepProps } from './draft';

/** Which linked YouTube account uploads; shown only when there is more than one to choose from,
 * with the default account preselected. */
export function YoutubeAccountField({ d, set, errors }: StepProps) {
  const t = useT();
  const [accounts, reload] = useApi<LinkedYoutubeAccount[]>('/youtube/accounts');
  useEffect(() => {
    if (accounts.state !== 'ready' || accounts.data.length < 2 || d.youtubeAccount !== '') return;
    const preferred = accounts.data.find((a) => a.is_default);
    if (preferred) set({ youtubeAccount: preferred.channel_id });
  }, [accounts, d.youtubeAccount, set]);
  if (accounts.state === 'failed') return <ErrorNotice error={accounts.error} context="wizard: youtube accounts" onRetry={reload} />;
  if (accounts.state !== 'ready' || accounts.data.length < 2) return null;
  return (
    <Field name="youtube.account" label={t('wizard.youtube.account')} hint={t('wizard.youtube.accountHint')} error={errors['youtube.account']}>
      {(p) => (
        <select {...p} value={d.youtubeAccount} onChange={(e) => set({ youtubeAccount: e.target.value })} data-testid="youtube-account-select">
          {accounts.data.map((a) => (
            <option key={a.channel_id} value={a.channel_id}>
              {a.is_default ? t('wizard.youtube.accountDefault', { title: a.channel_title }) : a.channel_title} ({a.channel_id})
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function StepYoutube({ d, set, errors }: StepProps) {
  const t = useT();
  const tagCount = parseTags(d.tags).length;
  return (
    <>
      <YoutubeAccountField d={d} set={set} errors={errors} />
      <Field
        name="youtube.title"
        label={t('wizard.youtube.title')}
        hint={t('wizard.youtube.titleHint', { n: chars(d.title), max: TITLE_MAX_CHARS })}
        error={errors['youtube.title']}
      >
        {(p) => <input {...p} value={d.title} onChange={(e) => set({ title: e.target.value })} data-testid="yt-title" />}
      </Field>
      <Field name="youtube.description" label={t('wizard.youtube.description')} error={errors['youtube.description']}>
        {(p) => (
          <textarea {...p} rows={4} value={d.description} onChange={(e) => set({ description: e.target.value })} data-testid="yt-description" />
        )}
      </Field>
      <Field
        name="youtube.tags"
        label={t('wizard.youtube.tags')}
        hint={t('wizard.youtube.tagsHint', { n: tagCount, max: MAX_TAGS })}
        error={errors['youtube.tags']}
      >
        {(p) => <input {...p} value={d.tags} onChange={(e) => set({ tags: e.target.value })} data-testid="yt-tags" />}
      </Field>
      <Field name="youtube.privacy" label={t('wizard.youtube.privacy')} error={errors['youtube.privacy']}>
        {(p) => (
          <select {...p} value={d.privacy} onChange={(e) => set({ privacy: e.target.value as Draft['privacy'] })} data-testid="privacy">
            {PRIVACIES.map((v) => (
              <option key={v} value={v}>
                {t(`wizard.youtube.privacy.${v}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <fieldset>
        <legend>{t('wizard.youtube.when')}</legend>
        <label>
          <input
            type="radio"
            name="publish-mode"
            checked={d.publishMode === 'now'}
            onChange={() => set({ publishMode: 'now' })}
            data-testid="publish-now"
          />{' '}
          {t('wizard.youtube.now')}
        </label>{' '}
        <label>
          <input
            type="radio"
            name="publish-mode"
            checked={d.publishMode === 'scheduled'}
            onChange={() => set({ publishMode: 'scheduled' })}
            data-testid="publish-scheduled"
          />{' '}
          {t('wizard.youtube.scheduled')}
        </label>
        {d.publishMode === 'scheduled' && (
          <Field
            name="youtube.publish_at"
            label={t('wizard.youtube.publishAt')}
            hint={t('wizard.youtube.publishAtHint')}
            error={errors['youtube.publish_at']}
          >
            {(p) => (
              <input {...p} type="datetime-local" value={d.publishAt} onChange={(e) => set({ publishAt: e.target.value })} data-testid="publish-at" />
            )}
          </Field>
        )}
      </fieldset>
      <div className="field">
        <label>
          <input type="checkbox" checked disabled aria-describedby="ai-disclosure-hint" data-testid="ai-disclosure" />{' '}
          {t('wizard.youtube.aiDisclosure')}
        </label>
        <p className="hint" id="ai-disclosure-hint">
          {t('wizard.youtube.aiDisclosureHint')}
        </p>
      </div>
    </>
  );
}
