// Configuration templates: list, create, edit, duplicate, delete. A new template is created by
// the server from its defaults (so the defaults live in one place, the server) and opened for
// editing. The editor shows the configuration's fields by section; fields it does not list (a
// portrait path) are kept as they are. The server checks every field at once and names each
// violation (`details.violations[].field`), which is shown at that field.

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { withToken } from '../accessToken';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { FieldError, describedBy, fieldErrors, type FieldErrors } from '../components/fieldErrors';
import { useTemplateList } from '../templateList';
import { formatDateTime } from '../format';
import { useLang, useT, type MessageKey, type Translate } from '../i18n';
import { useLogoUpload } from '../logoUpload';
import { LOGO_CORNERS, LOGO_SIZE_MAX, LOGO_SIZE_MIN } from '../projects';
import { choicesOf, rangeOf } from '../contract';

type Json = Record<string, unknown>;

interface ConfigTemplate {
  id: string;
  name: string;
  configuration: Json;
  created_at: string;
  updated_at: string;
}

type FieldKind =
  | { kind: 'number' }
  | { kind: 'text' }
  | { kind: 'bool' }
  | { kind: 'select'; options: readonly string[]; labels?: Record<string, MessageKey> }
  /** A choice that may be unset (`null`). */
  | { kind: 'optional-select'; options: readonly string[] };

interface Field {
  path: string;
  label: MessageKey;
  type: FieldKind;
}

interface Section {
  title: MessageKey;
  fields: Field[];
}

const num = { kind: 'number' } as const;
const text = { kind: 'text' } as const;
const bool = { kind: 'bool' } as const;

const providerLabels: Record<string, MessageKey> = {
  local: 'cfg.provider.local',
  gemini: 'cfg.provider.gemini',
  openai_compatible: 'cfg.provider.openai_compatible',
  google_tts: 'cfg.provider.google_tts',
  stability: 'cfg.provider.stability',
  did: 'cfg.provider.did',
  youtube: 'cfg.provider.youtube',
};
const kenBurnsLabels: Record<string, MessageKey> = {
  auto: 'cfg.ken_burns.auto',
  zoom_in: 'cfg.ken_burns.zoom_in',
  zoom_out: 'cfg.ken_burns.zoom_out',
  pan_left: 'cfg.ken_burns.pan_left',
  pan_right: 'cfg.ken_burns.pan_right',
  still: 'cfg.ken_burns.still',
};

function modeLabel(t: Translate, mode: unknown): string {
  const key = typeof mode === 'string' ? kenBurnsLabels[mode] : undefined;
  return key ? t(key) : String(mode);
}

/** A choice among the values the generated contract allows for `path`. */
const choice = (path: string, labels?: Record<string, MessageKey>): FieldKind => ({ kind: 'select', options: choicesOf(path), ...(labels ? { labels } : {}) });
const provider = (path: string): FieldKind => choice(path, providerLabels);

const LOGO_OPACITY = rangeOf('logo.opacity');
const LOGO_MARGIN = rangeOf('logo.margin');

// Options come from the generated contract (the server's own rules); the server still validates.
const SECTIONS: Section[] = [
  {
    title: 'cfg.section.subtitles',
    fields: [
      { path: 'subtitles.enabled', label: 'cfg.subtitles.enabled', type: bool },
      { path: 'subtitles.font_family', label: 'cfg.subtitles.font_family', type: text },
      { path: 'subtitles.font_size', label: 'cfg.subtitles.font_size', type: num },
      { path: 'subtitles.primary_color', label: 'cfg.subtitles.primary_color', type: text },
      { path: 'subtitles.outline_color', label: 'cfg.subtitles.outline_color', type: text },
      { path: 'subtitles.outline_width', label: 'cfg.subtitles.outline_width', type: num },
      { path: 'subtitles.position.x', label: 'cfg.subtitles.position_x', type: num },
      { path: 'subtitles.position.y', label: 'cfg.subtitles.position_y', type: num },
      { path: 'subtitles.max_line_chars', label: 'cfg.subtitles.max_line_chars', type: num },
    ],
  },
  {
    title: 'cfg.section.ken_burns',
    fields: [
      {
        path: 'ken_burns.mode',
        label: 'cfg.ken_burns.mode',
        type: choice('ken_burns.mode', kenBurnsLabels),
      },
      { path: 'ken_burns.zoom', label: 'cfg.ken_burns.zoom', type: num },
    ],
  },
  {
    title: 'cfg.section.presenter',
    fields: [{ path: 'presenter.enabled', label: 'cfg.presenter.enabled', type: bool }],
  },
  {
    title: 'cfg.section.narration',
    fields: [
      {
        path: 'narration.voice',
        label: 'cfg.narration.voice',
        type: choice('narration.voice', { female: 'cfg.narration.female', male: 'cfg.narration.male' }),
      },
      { path: 'narration.speaking_rate', label: 'cfg.narration.speaking_rate', type: num },
      { path: 'narration.pitch', label: 'cfg.narration.pitch', type: num },
    ],
  },
  {
    title: 'cfg.section.script',
    fields: [
      { path: 'script.target_min_seconds', label: 'cfg.script.target_min_seconds', type: num },
      { path: 'script.target_max_seconds', label: 'cfg.script.target_max_seconds', type: num },
      { path: 'script.segment_min_seconds', label: 'cfg.script.segment_min_seconds', type: num },
      { path: 'script.segment_max_seconds', label: 'cfg.script.segment_max_seconds', type: num },
    ],
  },
  {
    title: 'cfg.section.images',
    fields: [
      {
        path: 'images.style_preset',
        label: 'cfg.images.style_preset',
        type: { kind: 'optional-select', options: choicesOf('images.style_preset') },
      },
      { path: 'images.style_modifiers', label: 'cfg.images.style_modifiers', type: text },
      { path: 'images.negative_prompt', label: 'cfg.images.negative_prompt', type: text },
      { path: 'images.seed', label: 'cfg.images.seed', type: num },
      { path: 'images.concurrency', label: 'cfg.images.concurrency', type: num },
      { path: 'images.requests_per_minute', label: 'cfg.images.requests_per_minute', type: num },
    ],
  },
  {
    title: 'cfg.section.thumbnail',
    fields: [
      { path: 'thumbnail.title_font_size', label: 'cfg.thumbnail.title_font_size', type: num },
      { path: 'thumbnail.text_color', label: 'cfg.thumbnail.text_color', type: text },
      { path: 'thumbnail.background_segment', label: 'cfg.thumbnail.background_segment', type: num },
    ],
  },
  {
    title: 'cfg.section.render',
    fields: [
      {
        path: 'render.x264_preset',
        label: 'cfg.render.x264_preset',
        type: choice('render.x264_preset'),
      },
      { path: 'render.crf', label: 'cfg.render.crf', type: num },
      { path: 'render.parallel_clips', label: 'cfg.render.parallel_clips', type: num },
    ],
  },
  {
    title: 'cfg.section.providers',
    fields: [
      { path: 'providers.script', label: 'cfg.providers.script', type: provider('providers.script') },
      { path: 'providers.narration', label: 'cfg.providers.narration', type: provider('providers.narration') },
      { path: 'providers.images', label: 'cfg.providers.images', type: provider('providers.images') },
      { path: 'providers.avatar', label: 'cfg.providers.avatar', type: provider('providers.avatar') },
      { path: 'providers.publish', label: 'cfg.providers.publish', type: provider('providers.publish') },
    ],
  },
  {
    title: 'cfg.section.llm',
    fields: [
      { path: 'llm.base_url', label: 'cfg.llm.base_url', type: text },
      { path: 'llm.model', label: 'cfg.llm.model', type: text },
      { path: 'llm.api_key', label: 'cfg.llm.api_key', type: choice('llm.api_key') },
      { path: 'llm.structured_output', label: 'cfg.llm.structured_output', type: choice('llm.structured_output') },
    ],
  },
];

function getPath(obj: Json, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Json)[k] : undefined), obj);
}

function setPath(obj: Json, path: string, value: unknown): Json {
  const [head, ...rest] = path.split('.');
  if (head === undefined) return obj;
  if (rest.length === 0) return { ...obj, [head]: value };
  const child = obj[head];
  return { ...obj, [head]: setPath(child && typeof child === 'object' ? (child as Json) : {}, rest.join('.'), value) };
}

/** Number inputs are edited as text, so a half-typed value is never rewritten under the cursor. */
type Drafts = Record<string, string>;

function numberDrafts(config: Json): Drafts {
  const out: Drafts = {};
  for (const s of SECTIONS) {
    for (const f of s.fields) {
      if (f.type.kind === 'number') out[f.path] = String(getPath(config, f.path) ?? '');
    }
  }
  return out;
}

/** A number field that is not a number is sent as typed, so the server names it. */
function withNumbers(config: Json, drafts: Drafts): Json {
  let out = config;
  for (const [path, raw] of Object.entries(drafts)) {
    const n = Number(raw);
    out = setPath(out, path, raw.trim() !== '' && Number.isFinite(n) ? n : raw);
  }
  return out;
}

const FORM = 'cfg';

/** A number as typed: a number when it is one, else the text, so the server names the field. */
function typedNumber(raw: string): number | string {
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

/** The optional `logo` section: none until a file is uploaded (the upload's id is what the
 * configuration holds), removable again; its other fields take the server's defaults until set. */
function LogoSection({ config, errors, onConfig }: { config: Json; errors: FieldErrors; onConfig: (c: Json) => void }) {
  const t = useT();
  const logo = config.logo && typeof config.logo === 'object' ? (config.logo as Json) : null;
  const { upload, uploading, uploadError, refused } = useLogoUpload((stored) =>
    onConfig(setPath(config, 'logo', { ...(logo ?? {}), upload: stored.id })),
  );
  const set = (key: string, value: unknown) => onConfig(setPath(config, `logo.${key}`, value));
  const number = (key: string, fallback: number, scale = 1) => {
    const v = logo?.[key];
    return typeof v === 'number' ? String(Math.round(v * scale * 100) / 100) : typeof v === 'string' ? v : String(fallback);
  };
  const err = (field: string) => <FieldError form={FORM} field={field} errors={errors} />;
  return (
    <fieldset className="field-grid" data-testid="cfg-logo">
      <legend>{t('wizard.visual.logo')}</legend>
      <div className="field">
        <label htmlFor="cfg-logo-file">{t('wizard.visual.logoFile')}</label>
        <input
          id="cfg-logo-file"
          type="file"
          accept="image/png,image/jpeg"
          disabled={uploading}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload(file);
          }}
          data-testid="cfg-logo-file"
          {...describedBy(FORM, 'logo.upload', errors)}
        />
        <p className="hint">{uploading ? t('wizard.visual.logoUploading') : t('wizard.visual.logoFileHint')}</p>
        {err('logo.upload')}
        {refused && (
          <p className="field-error" data-testid="cfg-logo-refused">
            {refused}
          </p>
        )}
      </div>
      {uploadError && <ErrorNotice error={uploadError.error} context="configuration templates: logo upload" onRetry={() => void upload(uploadError.file)} />}
      {logo && (
        <>
          <div className="field">
            <img
              src={withToken(`/api/v1/uploads/logo/${String(logo.upload)}`)}
              alt={t('wizard.visual.logoPreviewAlt')}
              height={48}
              style={{ maxWidth: 200, objectFit: 'contain' }}
              data-testid="cfg-logo-preview"
            />{' '}
            <button type="button" onClick={() => onConfig({ ...config, logo: null })} data-testid="cfg-logo-remove">
              {t('wizard.visual.logoRemove')}
            </button>
          </div>
          <div className="field">
            <label htmlFor="cfg-logo-position">{t('wizard.visual.logoPosition')}</label>
            <select
              id="cfg-logo-position"
              value={typeof logo.position === 'string' ? logo.position : 'top_right'}
              onChange={(e) => set('position', e.target.value)}
              data-testid="cfg-logo-position"
            >
              {LOGO_CORNERS.map((corner) => (
                <option key={corner} value={corner}>
                  {t(`wizard.visual.logoPosition.${corner}`)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="cfg-logo-size">{t('wizard.visual.logoSize')}</label>
            <input
              id="cfg-logo-size"
              type="number"
              min={LOGO_SIZE_MIN}
              max={LOGO_SIZE_MAX}
              value={number('size_percent', 12)}
              onChange={(e) => set('size_percent', typedNumber(e.target.value))}
              data-testid="cfg-logo-size"
              {...describedBy(FORM, 'logo.size_percent', errors)}
            />
            {err('logo.size_percent')}
          </div>
          <div className="field">
            <label htmlFor="cfg-logo-opacity">{t('wizard.visual.logoOpacity')}</label>
            <input
              id="cfg-logo-opacity"
              type="number"
              min={LOGO_OPACITY.min * 100}
              max={LOGO_OPACITY.max * 100}
              step={5}
              value={number('opacity', 85, 100)}
              onChange={(e) => {
                const n = typedNumber(e.target.value);
                set('opacity', typeof n === 'number' ? n / 100 : n);
              }}
              data-testid="cfg-logo-opacity"
              {...describedBy(FORM, 'logo.opacity', errors)}
            />
            {err('logo.opacity')}
          </div>
          <div className="field">
            <label htmlFor="cfg-logo-margin">{t('wizard.visual.logoMargin')}</label>
            <input
              id="cfg-logo-margin"
              type="number"
              min={LOGO_MARGIN.min}
              max={LOGO_MARGIN.max}
              value={number('margin', 40)}
              onChange={(e) => set('margin', typedNumber(e.target.value))}
              data-testid="cfg-logo-margin"
              {...describedBy(FORM, 'logo.margin', errors)}
            />
            {err('logo.margin')}
          </div>
          <div className="field checkbox">
            <input
              id="cfg-logo-on-thumbnail"
              type="checkbox"
              checked={logo.on_thumbnail !== false}
              onChange={(e) => set('on_thumbnail', e.target.checked)}
              data-testid="cfg-logo-on-thumbnail"
            />
            <label htmlFor="cfg-logo-on-thumbnail">{t('wizard.visual.logoOnThumbnail')}</label>
          </div>
        </>
      )}
    </fieldset>
  );
}

function FieldInput({
  field,
  config,
  drafts,
  errors,
  onConfig,
  onDraft,
}: {
  field: Field;
  config: Json;
  drafts: Drafts;
  errors: FieldErrors;
  onConfig: (c: Json) => void;
  onDraft: (path: string, raw: string) => void;
}) {
  const t = useT();
  const id = `cfg-${field.path.replace(/\./g, '-')}`;
  const value = getPath(config, field.path);
  const a11y = describedBy(FORM, field.path, errors);
  const testId = `cfg-field-${field.path}`;
  let input;
  switch (field.type.kind) {
    case 'bool':
      return (
        <div className="field checkbox">
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onConfig(setPath(config, field.path, e.target.checked))}
            data-testid={testId}
            {...a11y}
          />
          <label htmlFor={id}>{t(field.label)}</label>
          <FieldError form={FORM} field={field.path} errors={errors} />
        </div>
      );
    case 'number':
      input = (
        <input
          id={id}
          inputMode="decimal"
          value={drafts[field.path] ?? ''}
          onChange={(e) => onDraft(field.path, e.target.value)}
          data-testid={testId}
          {...a11y}
        />
      );
      break;
    case 'text':
      input = (
        <input
          id={id}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onConfig(setPath(config, field.path, e.target.value))}
          data-testid={testId}
          {...a11y}
        />
      );
      break;
    case 'select': {
      const { options, labels } = field.type;
      input = (
        <select
          id={id}
          value={String(value)}
          onChange={(e) => onConfig(setPath(config, field.path, e.target.value))}
          data-testid={testId}
          {...a11y}
        >
          {options.map((o) => {
            const label = labels?.[o];
            return (
              <option key={o} value={o}>
                {label ? t(label) : o}
              </option>
            );
          })}
        </select>
      );
      break;
    }
    case 'optional-select':
      input = (
        <select
          id={id}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onConfig(setPath(config, field.path, e.target.value === '' ? null : e.target.value))}
          data-testid={testId}
          {...a11y}
        >
          <option value="">{t('common.none')}</option>
          {field.type.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
  }
  return (
    <div className="field">
      <label htmlFor={id}>{t(field.label)}</label>
      {input}
      <FieldError form={FORM} field={field.path} errors={errors} />
    </div>
  );
}

function Editor({
  template,
  onSaved,
  onCancel,
}: {
  template: ConfigTemplate;
  onSaved: (t: ConfigTemplate) => void;
  onCancel: () => void;
}) {
  const t = useT();
  const [name, setName] = useState(template.name);
  const [config, setConfig] = useState<Json>(template.configuration);
  const [drafts, setDrafts] = useState<Drafts>(() => numberDrafts(template.configuration));
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error);
  const heading = useRef<HTMLHeadingElement>(null);
  // The editor opens below the list: take the keyboard (and the view) there.
  useEffect(() => heading.current?.focus(), []);
  const listed = new Set([
    ...SECTIONS.flatMap((s) => s.fields.map((f) => f.path)),
    'logo.upload',
    'logo.size_percent',
    'logo.opacity',
    'logo.margin',
  ]);
  // Violations of fields the editor does not show (or of the body as a whole) are listed here.
  const otherErrors = Object.entries(errors).filter(([f]) => f !== 'name' && !listed.has(f));

  const save = async () => {
    setBusy(true);
    try {
      const saved = await api.send<ConfigTemplate>('PUT', `/configurations/${template.id}`, {
        name,
        configuration: withNumbers(config, drafts),
      });
      setError(null);
      onSaved(saved);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save();
  };

  return (
    <form className="editor" onSubmit={submit} noValidate data-testid="cfg-editor">
      <h2 ref={heading} tabIndex={-1}>
        {t('configs.editing', { name: template.name })}
      </h2>
      <div className="field">
        <label htmlFor="cfg-name">{t('configs.name')}</label>
        <input
          id="cfg-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          data-testid="cfg-name"
          {...describedBy(FORM, 'name', errors)}
        />
        <FieldError form={FORM} field="name" errors={errors} />
      </div>
      {SECTIONS.map((section) => (
        <fieldset key={section.title} className="field-grid">
          <legend>{t(section.title)}</legend>
          {section.fields.map((f) => (
            <FieldInput
              key={f.path}
              field={f}
              config={config}
              drafts={drafts}
              errors={errors}
              onConfig={setConfig}
              onDraft={(path, raw) => setDrafts((d) => ({ ...d, [path]: raw }))}
            />
          ))}
        </fieldset>
      ))}
      <LogoSection config={config} errors={errors} onConfig={setConfig} />
      {otherErrors.length > 0 && (
        <ul className="field-error" data-testid="cfg-other-errors">
          {otherErrors.map(([f, rule]) => (
            <li key={f}>
              <code>{f}</code>: {t('form.ruleBroken', { rule })}
            </li>
          ))}
        </ul>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy} data-testid="cfg-save">
          {t('common.save')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
      {error && <ErrorNotice error={error} context="configuration templates: save" onRetry={save} />}
    </form>
  );
}

function CreateForm({ onCreated }: { onCreated: (t: ConfigTemplate) => void }) {
  const t = useT();
  const [name, setName] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error);
  const create = async () => {
    setBusy(true);
    try {
      // An empty configuration takes every default; the editor opens on the result.
      const created = await api.send<ConfigTemplate>('POST', '/configurations', { name, configuration: {} });
      setError(null);
      setName('');
      onCreated(created);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="inline-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void create();
      }}
    >
      <label htmlFor="cfg-new-name">{t('configs.newName')}</label>
      <input
        id="cfg-new-name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        data-testid="cfg-new-name"
        {...describedBy('cfg-new', 'name', errors)}
      />
      <button type="submit" className="primary" disabled={busy} data-testid="cfg-create">
        {t('configs.create')}
      </button>
      <FieldError form="cfg-new" field="name" errors={errors} />
      {error && <ErrorNotice error={error} context="configuration templates: create" onRetry={create} />}
    </form>
  );
}

export default function ConfigurationTemplates() {
  const t = useT();
  const { lang } = useLang();
  const [editing, setEditing] = useState<ConfigTemplate | null>(null);
  const { templates, loadError, actionError, confirming, setConfirming, notice, setNotice, load, duplicate, remove } =
    useTemplateList<ConfigTemplate>('/configurations');

  return (
    <section aria-labelledby="configs-title">
      <h1 id="configs-title">{t('configs.title')}</h1>
      <p className="muted">{t('configs.intro')}</p>
      <CreateForm
        onCreated={(created) => {
          setNotice(t('templates.created', { name: created.name }));
          setEditing(created);
          void load();
        }}
      />
      <div role="status" aria-live="polite" data-testid="templates-notice">
        {notice}
      </div>
      {actionError && (
        <ErrorNotice error={actionError.error} context="configuration templates" onRetry={actionError.retry} />
      )}
      {loadError && <ErrorNotice error={loadError} context="configuration templates: list" onRetry={load} />}
      {!templates && !loadError && <p role="status">{t('common.loading')}</p>}
      {templates && templates.length === 0 && <p>{t('configs.empty')}</p>}
      {templates && templates.length > 0 && (
        <div className="table-wrap">
          <table data-testid="cfg-table">
            <caption className="visually-hidden">{t('configs.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('configs.name')}</th>
                <th scope="col">{t('configs.summary')}</th>
                <th scope="col">{t('templates.updated')}</th>
                <th scope="col">{t('templates.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {templates.map((tpl) => (
                <tr key={tpl.id} data-testid="cfg-row">
                  <th scope="row" data-testid="cfg-row-name">
                    {tpl.name}
                  </th>
                  <td>
                    {t('configs.summaryText', {
                      size: String(getPath(tpl.configuration, 'subtitles.font_size')),
                      mode: modeLabel(t, getPath(tpl.configuration, 'ken_burns.mode')),
                      presenter: getPath(tpl.configuration, 'presenter.enabled') === true ? t('common.yes') : t('common.no'),
                    })}
                  </td>
                  <td>
                    <time dateTime={tpl.updated_at}>{formatDateTime(tpl.updated_at, lang)}</time>
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      onClick={() => setEditing(tpl)}
                      aria-label={t('templates.editNamed', { name: tpl.name })}
                    >
                      {t('templates.edit')}
                    </button>
                    <button
                      type="button"
                      onClick={() => void duplicate(tpl)}
                      aria-label={t('templates.duplicateNamed', { name: tpl.name })}
                    >
                      {t('templates.duplicate')}
                    </button>
                    {confirming === tpl.id ? (
                      <span className="confirm">
                        <span>{t('templates.confirmDelete')}</span>
                        <button type="button" className="danger" onClick={() => void remove(tpl, () => { if (editing?.id === tpl.id) setEditing(null); })} data-testid="confirm-delete">
                          {t('common.yes')}
                        </button>
                        <button type="button" onClick={() => setConfirming(null)}>
                          {t('common.no')}
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        onClick={() => setConfirming(tpl.id)}
                        aria-label={t('templates.deleteNamed', { name: tpl.name })}
                      >
                        {t('templates.delete')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing && (
        <Editor
          key={editing.id}
          template={editing}
          onCancel={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null);
            setNotice(t('templates.saved', { name: saved.name }));
            void load();
          }}
        />
      )}
    </section>
  );
}
