// The wizard's checks, from the generated contract (../../contract): every rule the server
// enforces is checked here first, at the field; a server refusal is mapped back to its field.

import { ApiError } from '../../api';
import { type Translate } from '../../i18n';
import {
  ARTICLE_MAX_CHARS,
  ARTICLE_MIN_CHARS,
  DESCRIPTION_MAX_BYTES,
  FONT_SIZE_MAX,
  FONT_SIZE_MIN,
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
} from '../../projects';
import { configProblem } from '../../contract';

import { STEPS, Step, POSITION_X, POSITION_Y, isColor, typed, Draft, FieldErrors } from './draft';

export function validate(step: Step, d: Draft, t: Translate, now: number): FieldErrors {
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

export function validateAll(d: Draft, t: Translate, now: number): FieldErrors {
  return Object.assign({}, ...STEPS.map((s) => validate(s, d, t, now))) as FieldErrors;
}

/** The project a refused create-and-start made anyway: the server names it in
 * `details.project_id` when the project was created and only its start was refused. */
export function createdProjectId(error: ApiError): string | null {
  const id = error.kind === 'api' ? error.details.project_id : undefined;
  return typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) ? id : null;
}

/** The field a server rejection names, so it is shown where the user types. */
export function fieldsOf(error: ApiError): FieldErrors {
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
