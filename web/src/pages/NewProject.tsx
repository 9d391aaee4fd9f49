// The new-project wizard: text → visual basics → script → YouTube → review and start.
// Every rule the server enforces on these fields is checked here first, at the field, so a
// mistake never costs a request; a server rejection is still mapped back to its field.

import { useCallback, useEffect, useState, type ChangeEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { withToken } from '../accessToken';
import { ApiError, api, asApiError } from '../api';
import { Field } from '../components/Field';
import type { LinkedYoutubeAccount } from '../components/YoutubeAccount';
import { ErrorNotice } from '../errors';
import { useApi } from '../hooks';
import { useLogoUpload } from '../logoUpload';
import { formatDateTime } from '../format';
import { useLang, useT, type MessageKey, type Translate } from '../i18n';
import {
  ARTICLE_MAX_CHARS,
  ARTICLE_MIN_CHARS,
  DESCRIPTION_MAX_BYTES,
  FONT_SIZE_MAX,
  FONT_SIZE_MIN,
  LOGO_CORNERS,
  LOGO_SIZE_MAX,
  LOGO_SIZE_MIN,
  MAX_TAGS,
  NAME_MAX_CHARS,
  TAGS_MAX_TOTAL_CHARS,
  TITLE_MAX_CHARS,
  articleChars,
  chars,
  parseTags,
  utf8Bytes,
  type LogoCorner,
  type Privacy,
  type Project,
  type ProjectPageState,
  type ProjectConfiguration,
  LLM_DEFAULTS,
  type StructuredOutput,
} from '../projects';
import { choicesOf, configProblem, rangeOf, youtubeChoicesOf, type KenBurnsMode } from '../contract';

const STEPS = ['text', 'visual', 'script', 'youtube', 'review'] as const;
type Step = (typeof STEPS)[number];

const KEN_BURNS_MODES = choicesOf<KenBurnsMode>('ken_burns.mode');
/** Bottom-centre of the subtitle block in the 1920×1080 frame: presets that fill in x and y. */
const POSITIONS = { bottom: { x: 960, y: 1010 }, middle: { x: 960, y: 600 }, top: { x: 960, y: 220 } } as const;
type PositionName = keyof typeof POSITIONS;
/** Where the position may lie in the frame. */
const POSITION_X = rangeOf('subtitles.position.x');
const POSITION_Y = rangeOf('subtitles.position.y');
const LOGO_OPACITY = rangeOf('logo.opacity');
const STRUCTURED_OUTPUTS = choicesOf<StructuredOutput>('llm.structured_output');
const STRUCTURED_OUTPUT_LABELS: Record<StructuredOutput, MessageKey> = {
  json_schema: 'wizard.script.llm.jsonSchema',
  json_object: 'wizard.script.llm.jsonObject',
};
const PRIVACIES = youtubeChoicesOf<Privacy>('privacy');

/** `#RRGGBB` or `#RRGGBBAA` (AA = opacity, FF opaque), as the server's rule says. */
function isColor(value: string): boolean {
  return configProblem('subtitles.primary_color', value) === null;
}

/** A number typed into a text box: blank is no number (NaN), not 0. */
function typed(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** The preset a position is, or null for any other point. */
function presetOf(x: string, y: string): PositionName | null {
  const found = (Object.keys(POSITIONS) as PositionName[]).find((k) => String(POSITIONS[k].x) === x && String(POSITIONS[k].y) === y);
  return found ?? null;
}

interface Draft {
  name: string;
  content: string;
  configTemplateId: string;
  fontFamily: string;
  fontSize: string;
  /** As the template or the user gave it: `#RRGGBB` or `#RRGGBBAA` (the alpha is kept). */
  color: string;
  posX: string;
  posY: string;
  kenBurns: string;
  presenter: boolean;
  /** The uploaded logo's id; '' = no logo. */
  logoId: string;
  logoPosition: LogoCorner;
  logoSize: string;
  /** Percent, 0–100 (the configuration holds 0–1). */
  logoOpacity: string;
  logoOnThumbnail: boolean;
  promptTemplateId: string;
  scriptProvider: ScriptProvider;
  model: string;
  /** `[llm]` for the OpenAI-compatible writer. */
  llmBaseUrl: string;
  llmModel: string;
  /** Send the stored `openai_compatible` key (a local server takes none). */
  llmUseKey: boolean;
  llmStructured: StructuredOutput;
  /** Whether a Gemini key is stored (null until the script step has asked). Without one there
   * is no model list to choose from, so no model is asked for; the project cannot write its
   * script until a key is stored (PROVIDER_KEY_MISSING), which the wizard says at the field. */
  geminiKeyStored: boolean | null;
  title: string;
  description: string;
  tags: string;
  privacy: Privacy;
  publishMode: 'now' | 'scheduled';
  publishAt: string;
  /** The linked account's channel id to upload with; '' = the default account at upload time. */
  youtubeAccount: string;
  /** The chosen configuration template's values as the fields show them (null: no template).
   * Only fields that differ from these are sent, so the template's values reach the project
   * exactly as stored (nothing the form cannot show is rounded, snapped or dropped). */
  base: ConfigFields | null;
}

/** The fields that edit the project's configuration. */
type ConfigFields = Pick<
  Draft,
  | 'fontFamily'
  | 'fontSize'
  | 'color'
  | 'posX'
  | 'posY'
  | 'kenBurns'
  | 'presenter'
  | 'scriptProvider'
  | 'llmBaseUrl'
  | 'llmModel'
  | 'llmUseKey'
  | 'llmStructured'
  | 'logoId'
  | 'logoPosition'
  | 'logoSize'
  | 'logoOpacity'
  | 'logoOnThumbnail'
>;

const initialDraft: Draft = {
  name: '',
  content: '',
  configTemplateId: '',
  fontFamily: 'Noto Sans CJK TC',
  fontSize: '56',
  color: '#FFFFFF',
  posX: String(POSITIONS.bottom.x),
  posY: String(POSITIONS.bottom.y),
  kenBurns: 'auto',
  presenter: true,
  logoId: '',
  logoPosition: 'top_right',
  logoSize: '12',
  logoOpacity: '85',
  logoOnThumbnail: true,
  promptTemplateId: '',
  scriptProvider: 'local',
  model: '',
  llmBaseUrl: LLM_DEFAULTS.base_url,
  llmModel: LLM_DEFAULTS.model,
  llmUseKey: false,
  llmStructured: LLM_DEFAULTS.structured_output,
  geminiKeyStored: null,
  title: '',
  description: '',
  tags: '',
  privacy: 'private',
  publishMode: 'now',
  publishAt: '',
  youtubeAccount: '',
  base: null,
};

type FieldErrors = Record<string, string>;

/** Which step shows each field (server field names). */
const FIELD_STEP: Record<string, Step> = {
  content: 'text',
  name: 'text',
  'subtitles.font_family': 'visual',
  'subtitles.font_size': 'visual',
  'subtitles.primary_color': 'visual',
  'subtitles.position.x': 'visual',
  'subtitles.position.y': 'visual',
  logo: 'visual',
  'logo.upload': 'visual',
  'logo.size_percent': 'visual',
  'logo.opacity': 'visual',
  llm_model: 'script',
  'providers.script': 'script',
  'llm.base_url': 'script',
  'llm.model': 'script',
  'llm.api_key': 'script',
  'youtube.title': 'youtube',
  'youtube.description': 'youtube',
  'youtube.tags': 'youtube',
  'youtube.privacy': 'youtube',
  'youtube.publish_at': 'youtube',
  'youtube.account': 'youtube',
};

function validate(step: Step, d: Draft, t: Translate, now: number): FieldErrors {
  const errors: FieldErrors = {};
  if (step === 'text') {
    const n = articleChars(d.content);
    if (n < ARTICLE_MIN_CHARS) errors.content = t('wizard.text.tooShort', { n, min: ARTICLE_MIN_CHARS });
    else if (n > ARTICLE_MAX_CHARS) errors.content = t('wizard.text.tooLong', { n, max: ARTICLE_MAX_CHARS });
    if (d.name.trim() !== '' && chars(d.name.trim()) > NAME_MAX_CHARS) {
      errors.name = t('wizard.text.nameTooLong', { max: NAME_MAX_CHARS });
    }
  }
  if (step === 'visual') {
    if (configProblem('subtitles.font_size', typed(d.fontSize))) {
      errors['subtitles.font_size'] = t('wizard.visual.fontSizeRange', { min: FONT_SIZE_MIN, max: FONT_SIZE_MAX });
    }
    if (configProblem('subtitles.font_family', d.fontFamily)) errors['subtitles.font_family'] = t('wizard.visual.fontFamilyEmpty');
    if (!isColor(d.color)) errors['subtitles.primary_color'] = t('wizard.visual.colorInvalid');
    if (configProblem('subtitles.position.x', typed(d.posX))) {
      errors['subtitles.position.x'] = t('wizard.visual.positionRange', { max: POSITION_X.max });
    }
    if (configProblem('subtitles.position.y', typed(d.posY))) {
      errors['subtitles.position.y'] = t('wizard.visual.positionRange', { max: POSITION_Y.max });
    }
    if (d.logoId !== '') {
      if (configProblem('logo.size_percent', typed(d.logoSize))) {
        errors['logo.size_percent'] = t('wizard.visual.logoSizeRange', { min: LOGO_SIZE_MIN, max: LOGO_SIZE_MAX });
      }
      // The form asks for a percentage; the configuration holds a fraction.
      if (configProblem('logo.opacity', typed(d.logoOpacity) / 100)) errors['logo.opacity'] = t('wizard.visual.logoOpacityRange');
    }
  }
  if (step === 'script' && d.scriptProvider === 'gemini' && d.geminiKeyStored !== false && d.model === '') {
    errors.llm_model = t('wizard.script.modelRequired');
  }
  if (step === 'script' && d.scriptProvider === 'openai_compatible') {
    if (configProblem('llm.base_url', d.llmBaseUrl.trim())) errors['llm.base_url'] = t('wizard.script.llm.baseUrlInvalid');
    if (d.llmModel.trim() === '' || configProblem('llm.model', d.llmModel.trim())) errors['llm.model'] = t('wizard.script.llm.modelRequired');
  }
  if (step === 'youtube') {
    const titleChars = chars(d.title);
    if (titleChars > TITLE_MAX_CHARS) errors['youtube.title'] = t('wizard.youtube.titleTooLong', { n: titleChars, max: TITLE_MAX_CHARS });
    else if (/[<>]/.test(d.title)) errors['youtube.title'] = t('wizard.youtube.titleBrackets');
    const bytes = utf8Bytes(d.description);
    if (bytes > DESCRIPTION_MAX_BYTES) {
      errors['youtube.description'] = t('wizard.youtube.descriptionTooLong', { n: bytes, max: DESCRIPTION_MAX_BYTES });
    }
    const tags = parseTags(d.tags);
    const tagChars = tags.reduce((sum, tag) => sum + chars(tag), 0);
    if (tags.length > MAX_TAGS) errors['youtube.tags'] = t('wizard.youtube.tooManyTags', { n: tags.length, max: MAX_TAGS });
    else if (tagChars > TAGS_MAX_TOTAL_CHARS) {
      errors['youtube.tags'] = t('wizard.youtube.tagsTooLong', { n: tagChars, max: TAGS_MAX_TOTAL_CHARS });
    }
    if (d.publishMode === 'scheduled') {
      const at = new Date(d.publishAt).getTime();
      if (d.publishAt === '' || Number.isNaN(at)) errors['youtube.publish_at'] = t('wizard.youtube.publishAtMissing');
      else if (at <= now) errors['youtube.publish_at'] = t('wizard.youtube.publishAtPast');
      if (d.privacy !== 'private') errors['youtube.privacy'] = t('wizard.youtube.scheduledPrivate');
    }
  }
  return errors;
}

function validateAll(d: Draft, t: Translate, now: number): FieldErrors {
  return Object.assign({}, ...STEPS.map((s) => validate(s, d, t, now))) as FieldErrors;
}

/** The project a refused create-and-start made anyway: the server names it in
 * `details.project_id` when the project was created and only its start was refused. */
function createdProjectId(error: ApiError): string | null {
  const id = error.kind === 'api' ? error.details.project_id : undefined;
  return typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) ? id : null;
}

/** The field a server rejection names, so it is shown where the user types. */
function fieldsOf(error: ApiError): FieldErrors {
  const found: FieldErrors = {};
  if (['INPUT_EMPTY', 'INPUT_TOO_SHORT', 'INPUT_TOO_LONG'].includes(error.code)) found.content = error.message;
  const violations = error.details.violations;
  if (Array.isArray(violations)) {
    for (const v of violations as { field?: unknown; rule?: unknown }[]) {
      if (typeof v.field === 'string') found[v.field] = `${error.code}: ${String(v.rule)}`;
    }
  } else if (typeof error.details.field === 'string') {
    found[error.details.field] = `${error.code}: ${error.message}`;
  }
  return found;
}

interface PromptTemplate {
  id: string;
  name: string;
  is_default: boolean;
}
interface ConfigTemplate {
  id: string;
  name: string;
  configuration: ProjectConfiguration;
}
interface KeyStatus {
  provider: string;
  stored: boolean;
}
interface GeminiModels {
  models: { name: string; display_name: string }[];
  default_model: string;
}

type ScriptProvider = 'local' | 'gemini' | 'openai_compatible';

function scriptProviderOf(value: string | undefined): ScriptProvider {
  return value === 'gemini' || value === 'openai_compatible' ? value : 'local';
}

/** A template's configuration as the wizard's fields show it. Nothing is rounded to a preset:
 * the position stays x/y, the colour keeps its alpha, the script writer stays the template's. */
function templateFields(c: ProjectConfiguration, current: Draft): ConfigFields {
  return {
    fontFamily: c.subtitles.font_family,
    fontSize: String(c.subtitles.font_size),
    color: c.subtitles.primary_color,
    posX: String(c.subtitles.position.x),
    posY: String(c.subtitles.position.y),
    kenBurns: c.ken_burns.mode,
    presenter: c.presenter.enabled,
    scriptProvider: scriptProviderOf(c.providers.script),
    llmBaseUrl: (c.llm ?? LLM_DEFAULTS).base_url,
    llmModel: (c.llm ?? LLM_DEFAULTS).model,
    llmUseKey: (c.llm ?? LLM_DEFAULTS).api_key !== '',
    llmStructured: (c.llm ?? LLM_DEFAULTS).structured_output,
    ...(c.logo
      ? {
          logoId: c.logo.upload,
          logoPosition: c.logo.position,
          logoSize: String(c.logo.size_percent),
          logoOpacity: String(Math.round(c.logo.opacity * 100)),
          logoOnThumbnail: c.logo.on_thumbnail,
        }
      : {
          logoId: '',
          logoPosition: current.logoPosition,
          logoSize: current.logoSize,
          logoOpacity: current.logoOpacity,
          logoOnThumbnail: current.logoOnThumbnail,
        }),
  };
}

function StepText({ d, set, errors }: StepProps) {
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

interface StepProps {
  d: Draft;
  set: (changes: Partial<Draft>, fieldErrors?: FieldErrors) => void;
  errors: FieldErrors;
}

function StepVisual({ d, set, errors }: StepProps) {
  const t = useT();
  const [templates, reload] = useApi<ConfigTemplate[]>('/configurations');
  const chooseTemplate = (id: string) => {
    if (templates.state !== 'ready') return;
    const chosen = templates.data.find((c) => c.id === id);
    if (!chosen) {
      // The default settings: every field is sent as shown.
      set({ configTemplateId: '', base: null });
      return;
    }
    const fields = templateFields(chosen.configuration, d);
    set({ configTemplateId: id, ...fields, base: fields });
  };
  const preset = presetOf(d.posX, d.posY);
  return (
    <>
      {templates.state === 'failed' && <ErrorNotice error={templates.error} context="wizard: configuration templates" onRetry={reload} />}
      <Field name="config_template_id" label={t('wizard.visual.template')} hint={t('wizard.visual.templateHint')}>
        {(p) => (
          <select {...p} value={d.configTemplateId} onChange={(e) => chooseTemplate(e.target.value)}>
            <option value="">{t('wizard.visual.defaultTemplate')}</option>
            {templates.state === 'ready' &&
              templates.data.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
          </select>
        )}
      </Field>
      <fieldset>
        <legend>{t('wizard.visual.subtitles')}</legend>
        <div className="field-row">
          <Field name="subtitles.font_family" label={t('wizard.visual.fontFamily')} error={errors['subtitles.font_family']}>
            {(p) => <input {...p} value={d.fontFamily} onChange={(e) => set({ fontFamily: e.target.value })} data-testid="font-family" />}
          </Field>
          <Field
            name="subtitles.font_size"
            label={t('wizard.visual.fontSize')}
            hint={t('wizard.visual.fontSizeHint', { min: FONT_SIZE_MIN, max: FONT_SIZE_MAX })}
            error={errors['subtitles.font_size']}
          >
            {(p) => (
              <input
                {...p}
                type="number"
                min={FONT_SIZE_MIN}
                max={FONT_SIZE_MAX}
                value={d.fontSize}
                onChange={(e) => set({ fontSize: e.target.value })}
                data-testid="font-size"
              />
            )}
          </Field>
          <Field
            name="subtitles.primary_color"
            label={t('wizard.visual.color')}
            hint={t('wizard.visual.colorHint')}
            error={errors['subtitles.primary_color']}
          >
            {(p) => (
              <span className="color-pair">
                <input {...p} value={d.color} onChange={(e) => set({ color: e.target.value.trim() })} size={10} data-testid="font-color" />
                {/* The picker edits the red, green and blue; an alpha already there is kept. */}
                <input
                  type="color"
                  aria-label={t('wizard.visual.colorPicker')}
                  value={isColor(d.color) ? d.color.slice(0, 7).toLowerCase() : '#ffffff'}
                  onChange={(e) => set({ color: e.target.value.toUpperCase() + (isColor(d.color) ? d.color.slice(7) : '') })}
                  data-testid="font-color-picker"
                />
              </span>
            )}
          </Field>
        </div>
        <div className="field-row">
          <Field name="subtitles.position" label={t('wizard.visual.position')} hint={t('wizard.visual.positionHint')}>
            {(p) => (
              <select
                {...p}
                value={preset ?? 'custom'}
                onChange={(e) => {
                  const chosen = POSITIONS[e.target.value as PositionName] as { x: number; y: number } | undefined;
                  if (chosen) set({ posX: String(chosen.x), posY: String(chosen.y) });
                }}
                data-testid="position-preset"
              >
                {(Object.keys(POSITIONS) as PositionName[]).map((pos) => (
                  <option key={pos} value={pos}>
                    {t(`wizard.visual.position.${pos}`)}
                  </option>
                ))}
                <option value="custom" disabled={preset !== null}>
                  {t('wizard.visual.position.custom')}
                </option>
              </select>
            )}
          </Field>
          <Field name="subtitles.position.x" label={t('wizard.visual.positionX')} error={errors['subtitles.position.x']}>
            {(p) => (
              <input
                {...p}
                type="number"
                min={POSITION_X.min}
                max={POSITION_X.max}
                step={1}
                value={d.posX}
                onChange={(e) => set({ posX: e.target.value })}
                data-testid="position-x"
              />
            )}
          </Field>
          <Field name="subtitles.position.y" label={t('wizard.visual.positionY')} error={errors['subtitles.position.y']}>
            {(p) => (
              <input
                {...p}
                type="number"
                min={POSITION_Y.min}
                max={POSITION_Y.max}
                step={1}
                value={d.posY}
                onChange={(e) => set({ posY: e.target.value })}
                data-testid="position-y"
              />
            )}
          </Field>
        </div>
      </fieldset>
      <Field name="ken_burns.mode" label={t('wizard.visual.kenBurns')}>
        {(p) => (
          <select {...p} value={d.kenBurns} onChange={(e) => set({ kenBurns: e.target.value })}>
            {KEN_BURNS_MODES.map((m) => (
              <option key={m} value={m}>
                {t(`wizard.visual.kenBurns.${m}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="field">
        <label>
          <input type="checkbox" checked={d.presenter} onChange={(e) => set({ presenter: e.target.checked })} data-testid="presenter" />{' '}
          {t('wizard.visual.presenter')}
        </label>
        <p className="hint">{t('wizard.visual.presenterHint')}</p>
      </div>
      <LogoFields d={d} set={set} errors={errors} />
    </>
  );
}

/** The logo: uploaded as soon as it is chosen (the server checks and stores it and answers its
 * id, which the configuration names), previewed from the server, placed and sized here. */
function LogoFields({ d, set, errors }: StepProps) {
  const t = useT();
  const { upload, uploading, uploadError, refused } = useLogoUpload((stored) =>
    set({ logoId: stored.id }, { 'logo.upload': '' }),
  );
  // A refusal that names the file itself is shown at the field too, beside the notice.
  const refusedField = uploadError && ['logo', 'content-type'].includes(String(uploadError.error.details.field ?? ''));
  const fileError = refused ?? (refusedField ? `${uploadError.error.code}: ${uploadError.error.message}` : errors.logo || errors['logo.upload']);
  const onFile = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (file) void upload(file);
  };
  return (
    <fieldset data-testid="logo-block">
      <legend>{t('wizard.visual.logo')}</legend>
      <Field
        name="logo"
        label={t('wizard.visual.logoFile')}
        hint={uploading ? t('wizard.visual.logoUploading') : t('wizard.visual.logoFileHint')}
        error={fileError}
      >
        {(p) => <input {...p} type="file" accept="image/png,image/jpeg" onChange={onFile} disabled={uploading} data-testid="logo-file" />}
      </Field>
      {uploadError && (
        <ErrorNotice error={uploadError.error} context="wizard: logo upload" onRetry={() => void upload(uploadError.file)} />
      )}
      {d.logoId !== '' && (
        <>
          <div className="field">
            <img
              src={withToken(`/api/v1/uploads/logo/${d.logoId}`)}
              alt={t('wizard.visual.logoPreviewAlt')}
              height={64}
              style={{ maxWidth: 240, objectFit: 'contain', background: 'repeating-conic-gradient(#ccc 0 25%, #fff 0 50%) 0 0 / 16px 16px' }}
              data-testid="logo-preview"
            />{' '}
            <button type="button" onClick={() => set({ logoId: '' }, { logo: '', 'logo.upload': '' })} data-testid="logo-remove">
              {t('wizard.visual.logoRemove')}
            </button>
          </div>
          <div className="field-row">
            <Field name="logo.position" label={t('wizard.visual.logoPosition')}>
              {(p) => (
                <select {...p} value={d.logoPosition} onChange={(e) => set({ logoPosition: e.target.value as LogoCorner })} data-testid="logo-position">
                  {LOGO_CORNERS.map((corner) => (
                    <option key={corner} value={corner}>
                      {t(`wizard.visual.logoPosition.${corner}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field name="logo.size_percent" label={t('wizard.visual.logoSize')} error={errors['logo.size_percent']}>
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={LOGO_SIZE_MIN}
                  max={LOGO_SIZE_MAX}
                  step={1}
                  value={d.logoSize}
                  onChange={(e) => set({ logoSize: e.target.value })}
                  data-testid="logo-size"
                />
              )}
            </Field>
            <Field name="logo.opacity" label={t('wizard.visual.logoOpacity')} error={errors['logo.opacity']}>
              {(p) => (
                <input
                  {...p}
                  type="number"
                  min={LOGO_OPACITY.min * 100}
                  max={LOGO_OPACITY.max * 100}
                  step={5}
                  value={d.logoOpacity}
                  onChange={(e) => set({ logoOpacity: e.target.value })}
                  data-testid="logo-opacity"
                />
              )}
            </Field>
          </div>
          <div className="field">
            <label>
              <input
                type="checkbox"
                checked={d.logoOnThumbnail}
                onChange={(e) => set({ logoOnThumbnail: e.target.checked })}
                data-testid="logo-on-thumbnail"
              />{' '}
              {t('wizard.visual.logoOnThumbnail')}
            </label>
          </div>
        </>
      )}
    </fieldset>
  );
}

function GeminiModelField({ d, set, errors }: StepProps) {
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

function StepScript(props: StepProps) {
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
function LlmFields({ d, set, errors, keyStored }: StepProps & { keyStored: boolean }) {
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

/** Which linked YouTube account uploads; shown only when there is more than one to choose from,
 * with the default account preselected. */
function YoutubeAccountField({ d, set, errors }: StepProps) {
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

function StepYoutube({ d, set, errors }: StepProps) {
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

function StepReview({ d }: { d: Draft }) {
  const t = useT();
  const { lang } = useLang();
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
    ['wizard.youtube.title', d.title || t('wizard.review.titleFromScript')],
    ['wizard.youtube.tags', parseTags(d.tags).join(', ') || t('common.none')],
    ['wizard.youtube.privacy', t(`wizard.youtube.privacy.${d.privacy}`)],
    ['wizard.youtube.when', d.publishMode === 'now' ? t('wizard.youtube.now') : formatDateTime(d.publishAt, lang)],
    ['wizard.youtube.account', d.youtubeAccount || t('wizard.review.defaultAccount')],
  ];
  return (
    <dl className="error-ids" data-testid="review">
      {rows.map(([k, v]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{t(k)}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The configuration the wizard sends: with a template, only what the user changed (the server
 * merges it over the template, so every other value stays exactly the template's); without one,
 * every field as shown. */
function configurationOf(d: Draft): Record<string, unknown> {
  const base = d.base;
  const changed = (k: keyof ConfigFields) => base === null || d[k] !== base[k];
  const configuration: Record<string, unknown> = {};
  const subtitles: Record<string, unknown> = {};
  if (changed('fontFamily')) subtitles.font_family = d.fontFamily.trim();
  if (changed('fontSize')) subtitles.font_size = Number(d.fontSize);
  if (changed('color')) subtitles.primary_color = d.color;
  if (changed('posX') || changed('posY')) subtitles.position = { x: Number(d.posX), y: Number(d.posY) };
  if (Object.keys(subtitles).length > 0) configuration.subtitles = subtitles;
  if (changed('kenBurns')) configuration.ken_burns = { mode: d.kenBurns };
  if (changed('presenter')) configuration.presenter = { enabled: d.presenter };
  if (changed('scriptProvider')) configuration.providers = { script: d.scriptProvider };
  if (d.scriptProvider === 'openai_compatible') {
    const llm: Record<string, unknown> = {};
    if (changed('llmBaseUrl')) llm.base_url = d.llmBaseUrl.trim();
    if (changed('llmModel')) llm.model = d.llmModel.trim();
    if (changed('llmUseKey')) llm.api_key = d.llmUseKey ? 'openai_compatible' : '';
    if (changed('llmStructured')) llm.structured_output = d.llmStructured;
    if (Object.keys(llm).length > 0) configuration.llm = llm;
  }
  const fullLogo = () => ({
    upload: d.logoId,
    position: d.logoPosition,
    size_percent: Number(d.logoSize),
    opacity: Number(d.logoOpacity) / 100,
    on_thumbnail: d.logoOnThumbnail,
  });
  if (base === null) {
    // null clears a logo the template has, when the user chose none.
    configuration.logo = d.logoId === '' ? null : fullLogo();
  } else if (base.logoId === '') {
    if (d.logoId !== '') configuration.logo = fullLogo();
  } else if (d.logoId === '') {
    configuration.logo = null;
  } else {
    const logo: Record<string, unknown> = {};
    if (changed('logoId')) logo.upload = d.logoId;
    if (changed('logoPosition')) logo.position = d.logoPosition;
    if (changed('logoSize')) logo.size_percent = Number(d.logoSize);
    if (changed('logoOpacity')) logo.opacity = Number(d.logoOpacity) / 100;
    if (changed('logoOnThumbnail')) logo.on_thumbnail = d.logoOnThumbnail;
    if (Object.keys(logo).length > 0) configuration.logo = logo;
  }
  return configuration;
}

function requestBody(d: Draft) {
  const tags = parseTags(d.tags);
  const configuration = configurationOf(d);
  return {
    ...(d.name.trim() ? { name: d.name.trim() } : {}),
    content: d.content,
    configuration,
    ...(d.configTemplateId ? { config_template_id: d.configTemplateId } : {}),
    ...(d.promptTemplateId ? { prompt_template_id: d.promptTemplateId } : {}),
    ...(d.scriptProvider === 'gemini' && d.model !== '' ? { llm_model: d.model } : {}),
    youtube: {
      title: d.title,
      description: d.description,
      tags,
      privacy: d.privacy,
      ...(d.publishMode === 'scheduled' ? { publish_at: new Date(d.publishAt).toISOString() } : {}),
      ...(d.youtubeAccount ? { account: d.youtubeAccount } : {}),
    },
    start: true,
  };
}

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
