// Browsers play `<track>` subtitles only as WebVTT; the server keeps SRT (the format YouTube and
// players take). The two differ in the header and the decimal separator of the cue timings.

const TIMING = /^(\d{2}:\d{2}:\d{2}),(\d{3}) --> (\d{2}:\d{2}:\d{2}),(\d{3})(.*)$/;

export function srtToVtt(srt: string): string {
  const lines = srt.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n');
  const converted = lines.map((line) => {
    const m = TIMING.exec(line);
    return m ? `${m[1]}.${m[2]} --> ${m[3]}.${m[4]}${m[5]}` : line;
  });
  return `WEBVTT\n\n${converted.join('\n')}`;
}

/** Number of cues in an SRT file (lines with a timing). */
export function srtCueCount(srt: string): number {
  return srt
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((l) => TIMING.test(l)).length;
}
