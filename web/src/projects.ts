// Shapes of the project API (generated from its OpenAPI document, or written here for the few
// answers it still gives as objects) and the rules the UI checks before sending anything,
// which come from the generated contract (./contract), never copied.

import type { ApiErrorInit, ErrorInfo } from './api';
import { CONTRACT, LIMITS, choicesOf, rangeOf, type LogoCorner, type Privacy, type StructuredOutput } from './contract';
import type { MessageKey } from './i18n';
import type { components } from './generated/api';

/** The API's schemas, generated from its OpenAPI document (src/generated/api.d.ts). */
type Schemas = components['schemas'];

export const STATUSES = CONTRACT.statuses;
export type Status = (typeof STATUSES)[number];

export const STAGES = CONTRACT.stages;
export type StageName = (typeof STAGES)[number];

const RUNNING: ReadonlySet<string> = new Set(CONTRACT.running_statuses);

export function isRunning(status: string): boolean {
  return RUNNING.has(status);
}

/** Between stages a project is in a *_GENERATED status while its worker goes on. */
export function isInProgress(status: string): boolean {
  return isRunning(status) || /_GENERATED$|^RENDERED$/.test(status);
}

export function statusKey(status: string): MessageKey {
  return (STATUSES as readonly string[]).includes(status) ? (`status.${status}` as MessageKey) : 'status.unknown';
}

export function stageKey(stage: string): MessageKey {
  return (STAGES as readonly string[]).includes(stage) ? (`stage.${stage}` as MessageKey) : 'stage.other';
}

export function statusTone(status: string): 'ok' | 'bad' | 'warn' | 'run' {
  if (status === 'COMPLETED') return 'ok';
  if (status === 'FAILED') return 'bad';
  if (status === 'PAUSED' || status === 'CANCELLED') return 'warn';
  return 'run';
}

export type ProjectSummary = Schemas['ProjectPage']['items'][number];

export type ProjectPage = Schemas['ProjectPage'];

export interface Project {
  id: string;
  name: string;
  status: string;
  content: string;
  configuration: ProjectConfiguration;
  error_info: ErrorInfo | null;
  trace_id: string | null;
  youtube_settings: YoutubeSettings | null;
  youtube_video_id: string | null;
  job: string | null;
  created_at: string;
  updated_at: string;
}

export type ProjectConfiguration = Schemas['ProjectConfig'];

export type { LogoCorner, Privacy, StructuredOutput };

export type LlmConfiguration = Schemas['LlmSettings'];

/** The `[llm]` defaults (a local Ollama). */
export const LLM_DEFAULTS: LlmConfiguration = {
  base_url: CONTRACT.config['llm.base_url'].default,
  model: CONTRACT.config['llm.model'].default,
  api_key: CONTRACT.config['llm.api_key'].default,
  structured_output: CONTRACT.config['llm.structured_output'].default,
};

export const LOGO_CORNERS = choicesOf<LogoCorner>('logo.position');
/** The logo's longer side as a percentage of the frame width. */
const LOGO_SIZE = rangeOf('logo.size_percent');
export const LOGO_SIZE_MIN = LOGO_SIZE.min;
export const LOGO_SIZE_MAX = LOGO_SIZE.max;
/** `POST /uploads/logo`'s size limit. */
export const LOGO_MAX_BYTES = LIMITS.logo_max_bytes;

export type LogoConfiguration = Schemas['LogoSettings'];

export type UploadedLogo = Schemas['UploadedLogo'];

export type YoutubeSettings = Schemas['YoutubeSettings'];

/** What another page hands the project page when it navigates there (history state, so plain
 * data): a start the server refused, to be shown at the Start button. */
export interface ProjectPageState {
  startError?: ApiErrorInit;
}

export interface ActionResponse {
  action: string;
  result: string;
  project: Project;
}

export type ProjectResult = Schemas['ProjectResult'];

export type SubProgress = Schemas['SubProgress'];

/** `ProjectView` (the WebSocket snapshot's `state`, the event list's `view`). */
export type ProjectView = Schemas['ProjectView'];

/** One message of the progress WebSocket (crates/ytmaker-server/src/ws.rs `ProgressMessage`). */
export type ProgressMessage = Schemas['ProgressMessage'];

// ---- input rules (generated from the server's: ./contract) ----------------------------------

export const ARTICLE_MIN_CHARS = LIMITS.article_min_chars;
export const ARTICLE_MAX_CHARS = LIMITS.article_max_chars;
export const TITLE_MAX_CHARS = LIMITS.youtube_title_max_chars;
export const DESCRIPTION_MAX_BYTES = LIMITS.youtube_description_max_bytes;
export const MAX_TAGS = LIMITS.youtube_max_tags;
export const TAGS_MAX_TOTAL_CHARS = LIMITS.youtube_tags_max_total_chars;
export const NAME_MAX_CHARS = LIMITS.name_max_chars;
const FONT_SIZE = rangeOf('subtitles.font_size');
export const FONT_SIZE_MIN = FONT_SIZE.min;
export const FONT_SIZE_MAX = FONT_SIZE.max;

// Rust's `str::trim` removes the Unicode White_Space characters; JavaScript's `trim` uses a
// slightly different set (it also strips U+FEFF and keeps U+0085), so the count would differ.
const WHITE_SPACE = '\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const TRIM = new RegExp(`^[${WHITE_SPACE}]+|[${WHITE_SPACE}]+$`, 'gu');

/** Characters as the server counts them: Unicode scalar values of the trimmed text. */
export function articleChars(text: string): number {
  return Array.from(text.replace(TRIM, '')).length;
}

export function chars(text: string): number {
  return Array.from(text).length;
}

export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Tags as typed: comma-separated (ASCII or full-width comma), blanks dropped. */
export function parseTags(raw: string): string[] {
  return raw
    .split(/[,，]/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
}
