// The progress WebSocket with reconnect: the first connection asks for every event
// (`after_seq=0`) so the log shows the whole run, each reconnection asks only for what came after
// the last sequence number seen; the server's snapshot is the true state each time, replayed
// events only fill the log.

import { useCallback, useEffect, useRef, useState } from 'react';
import { withToken } from './accessToken';
import { ApiError, UI_CODES, newTraceId, socketUrl } from './api';
import { bytes } from './format';
import { currentLang, translate, type MessageKey } from './i18n';
import type { components } from './generated/api';
import { isRunning, stageKey, statusKey, type ProgressMessage, type ProjectView } from './projects';

export interface LogLine {
  seq: number;
  level: string;
  text: string;
  timestamp: string;
}

export interface RetryNotice {
  seq: number;
  code: string;
  attempt: number;
  maxAttempts: number;
  what: string;
  timestamp: string;
}

export interface LiveProgress {
  view: ProjectView | null;
  log: LogLine[];
  retries: RetryNotice[];
  connected: boolean;
  /** Set while the socket is down and a reconnection is scheduled. */
  socketError: ApiError | null;
  reconnectNow: () => void;
}

const MAX_LOG_LINES = 1000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

/** Backoff before reconnect attempt `attempt` (1-based): 0.5 s, 1 s, 2 s, … up to 30 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt - 1));
}

type ProjectFailure = NonNullable<ProjectView['error']>;

function errorInfoOf(m: Extract<ProgressMessage, { type: 'error' }>): ProjectFailure {
  return {
    stage: m.stage,
    error_code: m.code,
    error_message: m.message,
    is_retryable: m.is_retryable,
    details: m.details,
    solutions: m.solutions,
    // The server sends a failure's own trace id on every error message.
    trace_id: m.trace_id ?? '',
    timestamp: m.timestamp,
    attempts: m.attempts,
  };
}

/** The view after a live message, as the server's `ProjectView::apply` folds the same event. */
function applyLive(view: ProjectView, m: ProgressMessage): ProjectView {
  switch (m.type) {
    case 'progress': {
      const next = {
        ...view,
        status: m.status,
        stage: m.stage,
        percent: Math.max(view.percent, m.percent),
        sub_progress: m.sub_progress,
        eta_seconds: m.eta_seconds,
        seq: m.seq,
      };
      // A new run (resume, retry) clears the previous failure, as the server's fold does.
      if (isRunning(m.status)) next.error = null;
      return next;
    }
    case 'stage':
      return { ...view, stage: m.stage, stages: { ...view.stages, [m.stage]: m.state }, sub_progress: null, seq: m.seq };
    case 'error':
      return { ...view, error: errorInfoOf(m), seq: m.seq };
    case 'complete':
      return { ...view, result: m.result, percent: 100, seq: m.seq };
    default:
      return { ...view, seq: Math.max(view.seq, m.seq) };
  }
}

type LoggedEvent = NonNullable<Extract<ProgressMessage, { type: 'log' }>['event']>;
type Schemas = components['schemas'];

// Typed by the generated unions, so a new asset kind or edit without its words fails the build.
const ASSET_KINDS: Record<Schemas['AssetKind'], MessageKey> = {
  script: 'asset.kind.script',
  audio: 'asset.kind.audio',
  image: 'asset.kind.image',
  avatar_intro: 'asset.kind.avatar_intro',
  avatar_outro: 'asset.kind.avatar_outro',
  segment_clip: 'asset.kind.segment_clip',
  final_video: 'asset.kind.final_video',
  thumbnail: 'asset.kind.thumbnail',
  subtitles: 'asset.kind.subtitles',
};
const SCRIPT_WARNINGS: Record<Schemas['WarningKind'], MessageKey> = {
  segment_too_short: 'progress.log.note.segment_too_short',
  segment_too_long: 'progress.log.note.segment_too_long',
  total_too_short: 'progress.log.note.total_too_short',
  total_too_long: 'progress.log.note.total_too_long',
};

/** A server log line's note, worded in the UI's language. */
function noteLine(note: Schemas['LogNote']): string {
  switch (note.note) {
    case 'paused':
      return translate('progress.log.note.paused', { status: translate(statusKey(note.during)) });
    case 'condensed':
      return translate('progress.log.note.condensed', {
        kept: note.kept_sentences,
        original: note.original_sentences,
        percent: note.kept_percent.toFixed(0),
      });
    case 'description_edit_dropped':
      return translate('progress.log.note.description_edit_dropped', { index: note.segment_index, segments: note.segments });
    case 'script_warning':
      return translate(SCRIPT_WARNINGS[note.warning], { index: note.segment_index ?? '', seconds: note.seconds.toFixed(1) });
  }
}

const EDITS: Record<Schemas['Edit']['edit'], MessageKey> = {
  image_description: 'progress.log.edit.image_description',
  image_upload: 'progress.log.edit.image_upload',
  image_regenerate: 'progress.log.edit.image_regenerate',
  continue_without_presenter: 'progress.log.edit.continue_without_presenter',
};

/**
 * The line for an event the server reports as a log line (an asset completed, the retention
 * policy, an edit, a log line with a note), in the UI's language; the server's own line is English.
 */
export function eventLine(event: LoggedEvent): string | null {
  switch (event.kind) {
    case 'log':
      return event.payload.note != null ? noteLine(event.payload.note) : null;
    case 'asset': {
      const what = translate(ASSET_KINDS[event.payload.kind]);
      const index = event.payload.index;
      return index === null || index === undefined
        ? translate('progress.log.asset', { what })
        : translate('progress.log.assetSegment', { what, index });
    }
    case 'retention':
      return translate('progress.log.retention', {
        policy: event.payload.policy,
        removed: event.payload.removed.map((d) => `${d}/`).join(' '),
        bytes: bytes(event.payload.bytes_freed),
      });
    case 'edit': {
      const edit = event.payload;
      return translate(EDITS[edit.edit], {
        index: 'segment_index' in edit ? edit.segment_index : '',
      });
    }
    default:
      return null;
  }
}

function logLineOf(m: ProgressMessage): LogLine | null {
  switch (m.type) {
    case 'log': {
      const text = (m.event && eventLine(m.event)) ?? m.message;
      return { seq: m.seq, level: m.level, text, timestamp: m.timestamp };
    }
    case 'stage':
      return {
        seq: m.seq,
        level: 'info',
        text: translate(m.state === 'finished' ? 'progress.log.stageFinished' : 'progress.log.stageStarted', {
          stage: translate(stageKey(m.stage)),
        }),
        timestamp: m.timestamp,
      };
    case 'retry':
      return {
        seq: m.seq,
        level: 'retry',
        text: translate('progress.log.retry', {
          code: m.error_code,
          attempt: m.attempt,
          max: m.max_attempts,
          message: m.message,
        }),
        timestamp: m.timestamp,
      };
    case 'error':
      return { seq: m.seq, level: 'error', text: `${m.code}: ${m.message}`, timestamp: m.timestamp };
    case 'complete':
      return { seq: m.seq, level: 'info', text: translate('progress.log.complete'), timestamp: m.timestamp };
    default:
      return null;
  }
}

function retryOf(m: ProgressMessage): RetryNotice | null {
  if (m.type !== 'retry') return null;
  const what = m.asset_kind ? `${m.asset_kind}${m.segment_index === null ? '' : ` #${m.segment_index}`}` : '';
  return { seq: m.seq, code: m.error_code, attempt: m.attempt, maxAttempts: m.max_attempts, what, timestamp: m.timestamp };
}

export function useProgressSocket(projectId: string | null): LiveProgress {
  const [view, setView] = useState<ProjectView | null>(null);
  const [log, setLog] = useState<LogLine[]>([]);
  const [retries, setRetries] = useState<RetryNotice[]>([]);
  const [connected, setConnected] = useState(false);
  const [socketError, setSocketError] = useState<ApiError | null>(null);
  const lastSeq = useRef(0);
  const attempt = useRef(0);
  const socket = useRef<WebSocket | null>(null);
  const timer = useRef<number | null>(null);
  const disposed = useRef(false);
  const connectRef = useRef<() => void>(() => undefined);

  const connect = useCallback(() => {
    if (projectId === null || disposed.current) return;
    if (timer.current !== null) {
      window.clearTimeout(timer.current);
      timer.current = null;
    }
    socket.current?.close();
    // A browser cannot set headers on a WebSocket: the access token goes in the query.
    const ws = new WebSocket(withToken(socketUrl(`/projects/${projectId}/progress?after_seq=${lastSeq.current}`)));
    socket.current = ws;
    ws.onmessage = (event) => {
      let m: ProgressMessage;
      try {
        m = JSON.parse(String(event.data)) as ProgressMessage;
      } catch {
        setLog((prev) => [
          ...prev.slice(-MAX_LOG_LINES + 1),
          { seq: lastSeq.current, level: 'error', text: translate('progress.log.unreadable'), timestamp: new Date().toISOString() },
        ]);
        return;
      }
      if (m.type === 'snapshot') {
        attempt.current = 0;
        setConnected(true);
        setSocketError(null);
        setView(m.state);
        lastSeq.current = Math.max(lastSeq.current, m.seq);
        return;
      }
      if (m.seq <= lastSeq.current && !m.replay) return;
      const line = logLineOf(m);
      if (line) setLog((prev) => (prev.some((l) => l.seq === line.seq) ? prev : [...prev.slice(-MAX_LOG_LINES + 1), line]));
      const notice = retryOf(m);
      if (notice) setRetries((prev) => (prev.some((r) => r.seq === notice.seq) ? prev : [...prev, notice]));
      if (!m.replay) {
        lastSeq.current = Math.max(lastSeq.current, m.seq);
        setView((prev) => (prev ? applyLive(prev, m) : prev));
      }
    };
    ws.onclose = (event) => {
      if (socket.current !== ws || disposed.current) return;
      setConnected(false);
      attempt.current += 1;
      const delay = reconnectDelay(attempt.current);
      setSocketError(
        new ApiError({
          code: UI_CODES.websocket,
          message: translate('error.websocket.message', {
            reason: event.reason || `close code ${event.code}`,
            attempt: attempt.current,
            seconds: Math.round(delay / 100) / 10,
          }),
          isRetryable: true,
          details: { close_code: event.code, after_seq: lastSeq.current, attempt: attempt.current },
          traceId: newTraceId(),
          kind: 'websocket',
          lang: currentLang(),
          projectId,
        }),
      );
      timer.current = window.setTimeout(() => connectRef.current(), delay);
    };
  }, [projectId]);

  useEffect(() => {
    connectRef.current = connect;
  }, [connect]);

  useEffect(() => {
    disposed.current = false;
    lastSeq.current = 0;
    attempt.current = 0;
    setView(null);
    setLog([]);
    setRetries([]);
    connect();
    return () => {
      disposed.current = true;
      if (timer.current !== null) window.clearTimeout(timer.current);
      socket.current?.close();
      socket.current = null;
    };
  }, [connect]);

  return { view, log, retries, connected, socketError, reconnectNow: connect };
}
