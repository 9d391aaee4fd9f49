// The wizard's script step.

import { useEffect } from 'react';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../errors';
import { useApi } from '../../hooks';
import { useT } from '../../i18n';

import { STRUCTURED_OUTPUTS, STRUCTURED_OUTPUT_LABELS, PromptTemplate, KeyStatus, GeminiModels, scriptProviderOf, StepProps } from './draft';

export function GeminiModelField({ d, set, errors }: StepProps) {
  const t = useT();
  const [models, reload] = useApi<GeminiModels>('/providers/gemini/models');
  useEffect(() => {
    if (models.state === 'ready' && d.model === '') set({ model: models.data.default_model });
  }, [models, d.model, set]);
  if (models.state === 'failed') return <ErrorNotice error={models.error} context="wizard: gemini models" onRetry={reload} />;
  return (
    <Field name="llm_model" label={t('wizard.script.model')} error={errors.llm_model}>
      {(p) => (
        <select {...p} value={d.model} onChange={(e) => set({ model: e.target.value })} data-testid="model">
          <option value="">{models.state === 'loading' ? t('common.loading') : t('wizard.script.chooseModel')}</option>
          {models.state === 'ready' &&
            models.data.models.map((m) => (
              <option key={m.name} value={m.name}>
                {m.display_name} ({m.name})
              </option>
            ))}
        </select>
      )}
    </Field>
  );
}

export function StepScript(props: StepProps) {
  const { d, set } = props;
  const t = useT();
  const [prompts, reloadPrompts] = useApi<PromptTemplate[]>('/prompt-templates');
  const [keys, reloadKeys] = useApi<KeyStatus[]>('/keys');
  const hasGemini = keys.state === 'ready' && keys.data.some((k) => k.provider === 'gemini' && k.stored);
  useEffect(() => {
    if (keys.state === 'ready' && d.geminiKeyStored !== hasGemini) set({ geminiKeyStored: hasGemini });
  }, [keys.state, hasGemini, d.geminiKeyStored, set]);
  const hasLlmKey = keys.state === 'ready' && keys.data.some((k) => k.provider === 'openai_compatible' && k.stored);
  // A template that chose Gemini keeps it even without a key: the choice is shown, not replaced.
  // The OpenAI-compatible writer is always offered: a local server (Ollama) needs no key.
  const offerGemini = hasGemini || d.scriptProvider === 'gemini';
  return (
    <>
      {prompts.state === 'failed' && <ErrorNotice error={prompts.error} context="wizard: prompt templates" onRetry={reloadPrompts} />}
      <Field name="prompt_template_id" label={t('wizard.script.prompt')} hint={t('wizard.script.promptHint')}>
        {(p) => (
          <select {...p} value={d.promptTemplateId} onChange={(e) => set({ promptTemplateId: e.target.value })} data-testid="prompt-template">
            <option value="">{t('wizard.script.defaultPrompt')}</option>
            {prompts.state === 'ready' &&
              prompts.data
                .filter((pt) => !pt.is_default)
                .map((pt) => (
                  <option key={pt.id} value={pt.id}>
                    {pt.name}
                  </option>
                ))}
          </select>
        )}
      </Field>
      {keys.state === 'failed' && <ErrorNotice error={keys.error} context="wizard: keys" onRetry={reloadKeys} />}
      {keys.state === 'ready' && (
        <>
          <Field name="providers.script" label={t('wizard.script.writer')} error={props.errors['providers.script']}>
            {(p) => (
              <select
                {...p}
                value={d.scriptProvider}
                onChange={(e) => set({ scriptProvider: scriptProviderOf(e.target.value) })}
                data-testid="script-provider"
              >
                <option value="local">{t('wizard.script.writer.local')}</option>
                {offerGemini && <option value="gemini">{t('wizard.script.writer.gemini')}</option>}
                <option value="openai_compatible">{t('wizard.script.writer.openai_compatible')}</option>
              </select>
            )}
          </Field>
          {d.scriptProvider === 'local' && !hasGemini && <p data-testid="local-writer">{t('wizard.script.localOnly')}</p>}
          {d.scriptProvider === 'gemini' && hasGemini && <GeminiModelField {...props} />}
          {d.scriptProvider === 'gemini' && !hasGemini && (
            <p className="field-error" data-testid="gemini-key-missing">
              {t('wizard.script.geminiKeyMissing')}
            </p>
          )}
          {d.scriptProvider === 'openai_compatible' && <LlmFields {...props} keyStored={hasLlmKey} />}
        </>
      )}
    </>
  );
}

/** The OpenAI-compatible server: base URL, model, whether the stored key is sent, and how the
 * JSON is asked for. The defaults are a local Ollama. */
export function LlmFields({ d, set, errors, keyStored }: StepProps & { keyStored: boolean }) {
  const t = useT();
  return (
    <>
      <Field name="llm.base_url" label={t('wizard.script.llm.baseUrl')} hint={t('wizard.script.llm.baseUrlHint')} error={errors['llm.base_url']}>
        {(p) => <input {...p} value={d.llmBaseUrl} onChange={(e) => set({ llmBaseUrl: e.target.value })} data-testid="llm-base-url" />}
      </Field>
      <Field name="llm.model" label={t('wizard.script.llm.model')} hint={t('wizard.script.llm.modelHint')} error={errors['llm.model']}>
        {(p) => <input {...p} value={d.llmModel} onChange={(e) => set({ llmModel: e.target.value })} data-testid="llm-model" />}
      </Field>
      <Field name="llm.structured_output" label={t('wizard.script.llm.structured')}>
        {(p) => (
          <select
            {...p}
            value={d.llmStructured}
            onChange={(e) => set({ llmStructured: STRUCTURED_OUTPUTS.find((v) => v === e.target.value) ?? d.llmStructured })}
            data-testid="llm-structured"
          >
            {STRUCTURED_OUTPUTS.map((v) => (
              <option key={v} value={v}>
                {t(STRUCTURED_OUTPUT_LABELS[v])}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="field">
        <label>
          <input type="checkbox" checked={d.llmUseKey} onChange={(e) => set({ llmUseKey: e.target.checked })} data-testid="llm-use-key" />{' '}
          {t('wizard.script.llm.useKey')}
        </label>
        {d.llmUseKey && !keyStored && (
          <p className="field-error" data-testid="llm-key-missing">
            {t('wizard.script.llm.keyMissing')}
          </p>
        )}
      </div>
    </>
  );
}
