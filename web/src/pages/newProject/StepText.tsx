// The wizard's text step.

import { type ChangeEvent } from 'react';
import { Field } from '../../components/Field';
import { useT } from '../../i18n';
import {
  ARTICLE_MAX_CHARS,
  ARTICLE_MIN_CHARS,
  articleChars,
} from '../../projects';

import { StepProps } from './draft';

export function StepText({ d, set, errors }: StepProps) {
  const t = useT();
  const count = articleChars(d.content);
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
    try {
      set({ content: new TextDecoder('utf-8', { fatal: true }).decode(body) }, { content: '' });
    } catch {
      set({}, { content: t('wizard.text.notUtf8', { file: file.name }) });
    }
  };
  return (
    <>
      <Field name="name" label={t('wizard.text.name')} hint={t('wizard.text.nameHint')} error={errors.name}>
        {(p) => <input {...p} value={d.name} onChange={(e) => set({ name: e.target.value })} data-testid="project-name" />}
      </Field>
      <Field
        name="content"
        label={t('wizard.text.article')}
        error={errors.content}
        hint={
          <span data-testid="article-count" data-count={count}>
            {t('wizard.text.count', { n: count, min: ARTICLE_MIN_CHARS, max: ARTICLE_MAX_CHARS })}
          </span>
        }
      >
        {(p) => (
          <textarea {...p} rows={14} value={d.content} onChange={(e) => set({ content: e.target.value })} data-testid="article" />
        )}
      </Field>
      <div className="field">
        <label htmlFor="article-file">{t('wizard.text.upload')}</label>
        <input id="article-file" type="file" accept=".txt,text/plain" onChange={(e) => void onFile(e)} data-testid="article-file" />
      </div>
    </>
  );
}
