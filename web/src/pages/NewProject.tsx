// The new-project wizard: text → visual basics → script → YouTube → review and start.
// Every rule the server enforces on these fields is checked here first, at the field, so a
// mistake never costs a request; a server rejection is still mapped back to its field.

import { useCallback, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useT } from '../i18n';
import {
  type Project,
  type ProjectPageState,
} from '../projects';

import { STEPS, Step, Draft, initialDraft, FieldErrors, FIELD_STEP, StepProps, requestBody } from './newProject/draft';
import { validate, validateAll, createdProjectId, fieldsOf } from './newProject/validation';
import { StepText } from './newProject/StepText';
import { StepVisual } from './newProject/StepVisual';
import { StepScript } from './newProject/StepScript';
import { StepYoutube } from './newProject/StepYoutube';
import { StepReview } from './newProject/StepReview';

export default function NewProject() {
  const t = useT();
  const navigate = useNavigate();
  const [step, setStep] = useState<Step>('text');
  const [draft, setDraft] = useState<Draft>(initialDraft);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitError, setSubmitError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const index = STEPS.indexOf(step);

  const set = useCallback((changes: Partial<Draft>, fieldErrors?: FieldErrors) => {
    setDraft((prev) => ({ ...prev, ...changes }));
    if (fieldErrors) {
      setErrors((prev) => {
        const next = { ...prev, ...fieldErrors };
        for (const [k, v] of Object.entries(fieldErrors)) if (v === '') delete next[k];
        return next;
      });
    }
  }, []);

  const goTo = (target: Step) => {
    setStep(target);
    window.scrollTo(0, 0);
  };

  const next = () => {
    const found = validate(step, draft, t, Date.now());
    setErrors(found);
    const nextStep = STEPS[index + 1];
    if (Object.keys(found).length === 0 && nextStep) goTo(nextStep);
  };

  const start = async () => {
    const found = validateAll(draft, t, Date.now());
    setErrors(found);
    const firstBad = STEPS.find((s) => Object.keys(found).some((f) => FIELD_STEP[f] === s));
    if (firstBad) {
      goTo(firstBad);
      return;
    }
    setSubmitting(true);
    setSubmitError(null);
    try {
      const project = await api.send<Project>('POST', '/projects', requestBody(draft));
      navigate(`/projects/${project.id}`);
    } catch (e) {
      const error = asApiError(e);
      // The project was created but its start was refused (e.g. QUOTA_INSUFFICIENT,
      // PROVIDER_KEY_MISSING): it exists, so go to it and show the refusal at its Start button.
      // Staying here would make the next click create a second project.
      const createdId = createdProjectId(error);
      if (createdId !== null) {
        navigate(`/projects/${createdId}`, { state: { startError: error.toInit() } satisfies ProjectPageState });
        return;
      }
      setSubmitError(error);
      const fields = fieldsOf(error);
      setErrors(fields);
      const badStep = STEPS.find((s) => Object.keys(fields).some((f) => FIELD_STEP[f] === s));
      if (badStep) setStep(badStep);
    } finally {
      setSubmitting(false);
    }
  };

  const stepProps: StepProps = { d: draft, set, errors };
  return (
    <>
      <h1>{t('wizard.title')}</h1>
      <ol className="steps" aria-label={t('wizard.stepsLabel')}>
        {STEPS.map((s, i) => (
          <li key={s} aria-current={s === step ? 'step' : undefined}>
            {i + 1}. {t(`wizard.step.${s}`)}
          </li>
        ))}
      </ol>
      <section aria-labelledby="step-heading" data-testid={`wizard-step-${step}`}>
        <h2 id="step-heading">{t(`wizard.step.${step}`)}</h2>
        {step === 'text' && <StepText {...stepProps} />}
        {step === 'visual' && <StepVisual {...stepProps} />}
        {step === 'script' && <StepScript {...stepProps} />}
        {step === 'youtube' && <StepYoutube {...stepProps} />}
        {step === 'review' && <StepReview d={draft} />}
      </section>
      {submitError && <ErrorNotice error={submitError} context="wizard: create project" onRetry={start} />}
      <div className="actions">
        {index > 0 && (
          <button type="button" onClick={() => goTo(STEPS[index - 1] ?? 'text')} data-testid="wizard-back">
            {t('common.back')}
          </button>
        )}
        {step !== 'review' ? (
          <button type="button" className="primary" onClick={next} data-testid="wizard-next">
            {t('common.next')}
          </button>
        ) : (
          <button type="button" className="primary" disabled={submitting} onClick={() => void start()} data-testid="wizard-start">
            {submitting ? t('wizard.starting') : t('wizard.start')}
          </button>
        )}
      </div>
    </>
  );
}
