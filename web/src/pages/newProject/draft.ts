// The wizard's draft: what the user typed, as text, and how it becomes a configuration and a
// request (over a chosen template, only the fields the user changed are sent).

import { type MessageKey } from '../../i18n';
import {
  parseTags,
  type LogoCorner,
  type Privacy,
  type ProjectConfiguration,
  LLM_DEFAULTS,
  type StructuredOutput
} from '../../projects';
import { choicesOf, configProblem, rangeOf, youtubeChoicesOf, type KenBurnsMode, type ScriptProvider } from '../../contract';

export const STEPS = ['text', 'visual', 'script', 'youtube', 'review'] as const;
export type Step = (typeof STEPS)[number];

export const KEN_BURNS_MODES = choicesOf<KenBurnsMode>('ken_burns.mode');
/** Bottom-centre of the subtitle block in the 1920×1080 frame: presets that fill in x and y. */
export const POSITIONS = { bottom: { x: 960, y: 1010 }, middle: { x: 960, y: 600 }, top: { x: 960, y: 220 } } as const;
export type PositionName = keyof typeof POSITIONS;
/** Where the position may lie in the frame. */
export const POSITION_X = rangeOf('subtitles.position.x');
export const POSITION_Y = rangeOf('subtitles.position.y');
export const LOGO_OPACITY = rangeOf('logo.opacity');
export const STRUCTURED_OUTPUTS = choicesOf<StructuredOutput>('llm.structured_output');
export const STRUCTURED_OUTPUT_LABELS: Record<StructuredOutput, MessageKey> = {
  json_schema: 'wizard.script.llm.jsonSchema',
  json_object: 'wizard.script.llm.jsonObject'
};
export const PRIVACIES = youtubeChoicesOf<Privacy>('privacy');

/** `#RRGGBB` or `#RRGGBBAA` (AA = opacity, FF opaque), as the server's rule says. */
export function isColor(value: string): boolean {
  return configProblem('subtitles.primary_color', value) === null;
}

/** A number typed into a text box: blank is no number (NaN), not 0. */
export function typed(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** The preset a position is, or null for any other point. */
export function presetOf(x: string, y: string): PositionName | null {
  const found = (Object.keys(POSITIONS) as PositionName[]).find((k) => String(POSITIONS[k].x) === x && String(POSITIONS[k].y) === y);
  return found ?? null;
}

export interface Draft {
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
  /** The chosen template's publisher (`providers.publish`); null: the server's default. */
  templatePublisher: string | null;
  /** The chosen configuration template's values as the fields show them (null: no template).
   * Only fields that differ from these are sent, so the template's values reach the project
   * exactly as stored (nothing the form cannot show is rounded, snapped or dropped). */
  base: ConfigFields | null;
}

/** The fields that edit the project's configuration. */
export type ConfigFields = Pick<
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

export const initialDraft: Draft = {
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
  templatePublisher: null,
  base: null
};

export type FieldErrors = Record<string, string>;

/** Which step shows each field (server field names). */
export const FIELD_STEP: Record<string, Step> = {
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
  'youtube.account': 'youtube'
};

export interface PromptTemplate {
  id: string;
  name: string;
  is_default: boolean;
}
export interface ConfigTemplate {
  id: string;
  name: string;
  configuration: ProjectConfiguration;
}
export interface KeyStatus {
  provider: string;
  stored: boolean;
}
export interface GeminiModels {
  models: { name: string; display_name: string }[];
  default_model: string;
}

export type { ScriptProvider };

const SCRIPT_PROVIDERS = choicesOf<ScriptProvider>('providers.script');

/** A configuration's script writer; one this UI does not know is shown as the local writer. */
export function scriptProviderOf(value: string | undefined): ScriptProvider {
  return SCRIPT_PROVIDERS.find((p) => p === value) ?? 'local';
}

/** A template's configuration as the wizard's fields show it. Nothing is rounded to a preset:
 * the position stays x/y, the colour keeps its alpha, the script writer stays the template's. */
export function templateFields(c: ProjectConfiguration, current: Draft): ConfigFields {
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
          logoOnThumbnail: c.logo.on_thumbnail
        }
      : {
          logoId: '',
          logoPosition: current.logoPosition,
          logoSize: current.logoSize,
          logoOpacity: current.logoOpacity,
          logoOnThumbnail: current.logoOnThumbnail
        })
  };
}

export interface StepProps {
  d: Draft;
  set: (changes: Partial<Draft>, fieldErrors?: FieldErrors) => void;
  errors: FieldErrors;
}

/** The configuration the wizard sends: with a template, only what the user changed (the server
 * merges it over the template, so every other value stays exactly the template's); without one,
 * every field as shown. */
export function configurationOf(d: Draft): Record<string, unknown> {
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
    on_thumbnail: d.logoOnThumbnail
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

export function requestBody(d: Draft) {
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
      ...(d.youtubeAccount ? { account: d.youtubeAccount } : {})
    },
    start: true
  };
}
