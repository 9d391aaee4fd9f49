// The providers' daily allowances (`GET /quotas`, also in `GET /monitoring`): their type is the
// server's, and their names and units are shown in the UI's language, never as identifiers.

import { ApiError, newTraceId } from './api';
import type { components } from './generated/api';
import type { MessageKey, Translate } from './i18n';

export type QuotaStatus = components['schemas']['QuotaStatus'];

// Typed by the generated unions, so a new quota or unit without its words fails the build.
const NAMES: Record<QuotaStatus['provider'], MessageKey> = {
  youtube: 'quota.name.youtube',
  youtube_uploads: 'quota.name.youtube_uploads',
  gemini: 'quota.name.gemini',
  stability: 'quota.name.stability',
  did: 'quota.name.did',
};

const UNITS: Record<QuotaStatus['unit'], MessageKey> = {
  units: 'quota.unit.units',
  uploads: 'quota.unit.uploads',
  requests: 'quota.unit.requests',
  images: 'quota.unit.images',
  credits: 'quota.unit.credits',
};

export function quotaName(t: Translate, quota: QuotaStatus): string {
  return t(NAMES[quota.provider]);
}

export function quotaUnit(t: Translate, quota: QuotaStatus): string {
  return t(UNITS[quota.unit]);
}

const SOURCES: Record<QuotaStatus['source'], MessageKey> = {
  local: 'quota.source.local',
  api: 'quota.source.api',
};

export function quotaSource(t: Translate, quota: QuotaStatus): string {
  return t(SOURCES[quota.source]);
}

/** Why the quota could not be read, as the error the notices show. */
export function quotaError(quota: QuotaStatus): ApiError | null {
  if (!quota.error) return null;
  return new ApiError({
    code: quota.error.code,
    message: quota.error.message,
    isRetryable: quota.error.is_retryable,
    details: quota.error.details,
    solutions: [],
    // The server's report of an unreadable quota carries no trace id of its own.
    traceId: newTraceId(),
    kind: 'api',
  });
}
