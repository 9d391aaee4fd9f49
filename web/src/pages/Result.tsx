import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { withToken } from '../accessToken';
import { ApiError, api, apiPath, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { useApi } from '../hooks';
import { useLang, useT } from '../i18n';
import type { Project, ProjectResult } from '../projects';
import { srtCueCount, srtToVtt } from '../subtitles';
import { formatDateTime } from '../format';

/** The SRT subtitles as a WebVTT object URL for `<track>`. */
function useVttTrack(subtitlesUrl: string | null): { url: string | null; cues: number; error: ApiError | null } {
  const [track, setTrack] = useState<{ url: string | null; cues: number; error: ApiError | null }>({
    url: null,
    cues: 0,
    error: null,
  });
  useEffect(() => {
    if (subtitlesUrl === null) return;
    let objectUrl: string | null = null;
    let live = true;
    api
      .text(apiPath(subtitlesUrl))
      .then((srt) => {
        if (!live) return;
        objectUrl = URL.createObjectURL(new Blob([srtToVtt(srt)], { type: 'text/vtt' }));
        setTrack({ url: objectUrl, cues: srtCueCount(srt), error: null });
      })
      .catch((e: unknown) => {
        if (live) setTrack({ url: null, cues: 0, error: asApiError(e) });
      });
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [subtitlesUrl]);
  return track;
}

function formatBytes(n: number): string {
  return n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

function YoutubeStatus({ project, result }: { project: Project; result: ProjectResult }) {
  const t = useT();
  const { lang } = useLang();
  const settings = project.youtube_settings;
  if (result.youtube_video_id) {
    const url = `https://www.youtube.com/watch?v=${encodeURIComponent(result.youtube_video_id)}`;
    return (
      <div data-testid="youtube-status">
        <p>
          {settings?.publish_at
            ? t('result.youtube.scheduled', { at: formatDateTime(settings.publish_at, lang) })
            : t('result.youtube.published', { privacy: t(`wizard.youtube.privacy.${settings?.privacy ?? 'private'}`) })}
        </p>
        <a href={url} target="_blank" rel="noreferrer" data-testid="youtube-link">
          {url}
        </a>
      </div>
    );
  }
  return (
    <p data-testid="youtube-status">
      {t('result.youtube.local')} {result.location && <code className="selectable">{result.location}</code>}
    </p>
  );
}

export default function Result() {
  const t = useT();
  const { id = '' } = useParams();
  const [project, reloadProject] = useApi<Project>(`/projects/${id}`);
  const [result, reloadResult] = useApi<ProjectResult>(`/projects/${id}/result`);
  const track = useVttTrack(result.state === 'ready' ? result.data.subtitles_url : null);
  if (project.state === 'failed') return <ErrorNotice error={project.error} context="result: project" onRetry={reloadProject} />;
  if (result.state === 'failed') {
    return (
      <>
        <h1>{t('result.title')}</h1>
        <ErrorNotice error={result.error} context="result: result" onRetry={reloadResult} />
        <Link to={`/projects/${id}`}>{t('result.backToProgress')}</Link>
      </>
    );
  }
  if (project.state !== 'ready' || result.state !== 'ready') return <p role="status">{t('common.loading')}</p>;
  const p = project.data;
  const r = result.data;
  // The browser fetches media and downloads by URL, without our headers: with an access token,
  // it rides in their query (accessToken.ts `withToken`).
  const downloads: [string, string, string][] = [
    [t('result.download.video', { size: formatBytes(r.video_bytes) }), r.video_url, 'final_video.mp4'],
    [t('result.download.thumbnail'), r.thumbnail_url, 'thumbnail.jpg'],
    [t('result.download.subtitles'), r.subtitles_url, 'subtitles.srt'],
    [t('result.download.script'), `/api/v1/projects/${id}/files/script`, 'script.json'],
  ];
  return (
    <>
      <h1>{p.name || t('dashboard.projects.unnamed')}</h1>
      <div className="result-grid">
        <section aria-labelledby="video-heading">
          <h2 id="video-heading">{t('result.video')}</h2>
          <video controls preload="metadata" src={withToken(r.video_url)} poster={withToken(r.thumbnail_url)} data-testid="video" width={960}>
            {track.url && (
              <track kind="subtitles" src={track.url} srcLang={/[\u3400-\u9fff]/.test(p.content) ? 'zh-TW' : 'en'} label={t('result.subtitlesTrack')} />
            )}
          </video>
          {track.error && <ErrorNotice error={track.error} context="result: subtitles" />}
          {track.url && (
            <p className="muted" data-testid="subtitle-cues" data-cues={track.cues}>
              {t('result.subtitlesLoaded', { n: track.cues })}
            </p>
          )}
        </section>
        <section aria-labelledby="thumb-heading">
          <h2 id="thumb-heading">{t('result.thumbnail')}</h2>
          <img className="thumbnail" src={withToken(r.thumbnail_url)} alt={t('result.thumbnailAlt', { name: p.name })} width={640} data-testid="thumbnail" />
        </section>
      </div>
      <h2>{t('result.youtube.title')}</h2>
      <YoutubeStatus project={p} result={r} />
      <h2>{t('result.downloads')}</h2>
      <ul data-testid="downloads">
        {downloads.map(([label, url, file]) => (
          <li key={url}>
            <a href={withToken(url)} download={file}>
              {label}
            </a>
          </li>
        ))}
      </ul>
      <p>
        <Link to={`/projects/${id}`}>{t('result.backToProgress')}</Link>
      </p>
    </>
  );
}
