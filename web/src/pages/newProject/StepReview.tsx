// The wizard's review step.

import { Link } from 'react-router-dom';
import { ErrorNotice } from '../../errors';
import { formatDateTime } from '../../format';
import type { components } from '../../generated/api';
import { useApi } from '../../hooks';
import { useLang, useT, type MessageKey } from '../../i18n';
import {
  articleChars,
  parseTags,
} from '../../projects';
import { type KenBurnsMode } from '../../contract';

import { presetOf, Draft } from './draft';

export function StepReview({ d }: { d: Draft }) {
  const t = useT();
  const { lang } = useLang();
  const [init, reloadInit] = useApi<components['schemas']['InitStatus']>('/system/init');
  const [accounts, reloadAccounts] = useApi<unknown[]>('/youtube/accounts');
  // Where the video goes: the chosen template's publisher, else the server's default one.
  const publisher = d.templatePublisher ?? (init.state === 'ready' ? init.data.default_providers.publish : null);
  const linked = accounts.state === 'ready' ? accounts.data.length > 0 : null;
  const rows: [MessageKey, string][] = [
    ['wizard.text.name', d.name.trim() || t('wizard.review.nameFromScript')],
    ['wizard.review.characters', String(articleChars(d.content))],
    ['wizard.visual.fontFamily', d.fontFamily],
    ['wizard.visual.fontSize', d.fontSize],
    ['wizard.visual.color', d.color],
    [
      'wizard.visual.position',
      `${t(`wizard.visual.position.${presetOf(d.posX, d.posY) ?? 'custom'}`)} (x ${d.posX}, y ${d.posY})`,
    ],
    ['wizard.visual.kenBurns', t(`wizard.visual.kenBurns.${d.kenBurns as KenBurnsMode}`)],
    ['wizard.visual.presenter', d.presenter ? t('common.yes') : t('common.no')],
    [
      'wizard.visual.logo',
      d.logoId === ''
        ? t('wizard.visual.logoNone')
        : `${t(`wizard.visual.logoPosition.${d.logoPosition}`)}, ${d.logoSize} %, ${t('wizard.visual.logoOpacity')} ${d.logoOpacity}`,
    ],
    [
      'wizard.script.writer',
      d.scriptProvider === 'gemini'
        ? `${t('wizard.script.writer.gemini')} (${d.model})`
        : d.scriptProvider === 'openai_compatible'
          ? `${t('wizard.script.writer.openai_compatible')} (${d.llmModel} @ ${d.llmBaseUrl})`
          : t('wizard.script.writer.local'),
    ],
  ];
  const youtube = publisher === 'youtube';
  if (youtube) {
    rows.push(
      ['wizard.youtube.title', d.title || t('wizard.review.titleFromScript')],
      ['wizard.youtube.tags', parseTags(d.tags).join(', ') || t('common.none')],
      ['wizard.youtube.privacy', t(`wizard.youtube.privacy.${d.privacy}`)],
      ['wizard.youtube.when', d.publishMode === 'now' ? t('wizard.youtube.now') : formatDateTime(d.publishAt, lang)],
      ['wizard.youtube.account', d.youtubeAccount || t('wizard.review.defaultAccount')],
    );
  }
  return (
    <>
      {init.state === 'failed' && <ErrorNotice error={init.error} context="wizard: review publisher" onRetry={reloadInit} />}
      {accounts.state === 'failed' && <ErrorNotice error={accounts.error} context="wizard: review accounts" onRetry={reloadAccounts} />}
      <dl className="error-ids" data-testid="review">
        {rows.map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{t(k)}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {publisher !== null && linked !== null && (
        <p className={youtube && !linked ? 'field-error' : 'muted'} data-testid="review-publishing" data-publisher={publisher}>
          {youtube
            ? linked
              ? t('wizard.review.uploads')
              : t('wizard.review.youtubeNotLinked')
            : linked
              ? t('wizard.review.keptLocally')
              : t('wizard.review.noAccountKeptLocally')}{' '}
          {!linked && <Link to="/settings">{t('wizard.review.linkInSettings')}</Link>}
        </p>
      )}
    </>
  );
}
