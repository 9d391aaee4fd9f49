// The wizard's visual step.

import { type ChangeEvent } from 'react';
import { withToken } from '../../accessToken';
import { Field } from '../../components/Field';
import { ErrorNotice } from '../../errors';
import { useApi } from '../../hooks';
import { useLogoUpload } from '../../logoUpload';
import { useT } from '../../i18n';
import {
  FONT_SIZE_MAX,
  FONT_SIZE_MIN,
  LOGO_CORNERS,
  LOGO_SIZE_MAX,
  LOGO_SIZE_MIN,
  type LogoCorner,
} from '../../projects';

import { KEN_BURNS_MODES, POSITIONS, PositionName, POSITION_X, POSITION_Y, LOGO_OPACITY, isColor, presetOf, ConfigTemplate, templateFields, StepProps } from './draft';

export function StepVisual({ d, set, errors }: StepProps) {
  const t = useT();
  const [templates, reload] = useApi<ConfigTemplate[]>('/configurations');
  const chooseTemplate = (id: string) => {
    if (templates.state !== 'ready') return;
    const chosen = templates.data.find((c) => c.id === id);
    if (!chosen) {
      // The default settings: every field is sent as shown.
      set({ configTemplateId: '', base: null, templatePublisher: null });
      return;
    }
    const fields = templateFields(chosen.configuration, d);
    set({ configTemplateId: id, ...fields, base: fields, templatePublisher: chosen.configuration.providers.publish });
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
export function LogoFields({ d, set, errors }: StepProps) {
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
