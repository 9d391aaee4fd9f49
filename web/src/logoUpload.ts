// Uploading a logo, shared by the new-project wizard and the configuration-template editor: the
// file is checked here against the server's own rules (PNG or JPEG, at most 2 MB) before any
// request, then sent to `POST /uploads/logo`, whose answer names the logo in a configuration.

import { useState } from 'react';
import { ApiError, api, asApiError } from './api';
import { useT } from './i18n';
import { LOGO_MAX_BYTES, type UploadedLogo } from './projects';

export interface LogoUpload {
  upload: (file: File) => Promise<void>;
  uploading: boolean;
  /** A refused upload, with its file so Retry can send it again. */
  uploadError: { error: ApiError; file: File } | null;
  /** Why a file was refused here, before any request. */
  refused: string | null;
}

export function useLogoUpload(onStored: (logo: UploadedLogo) => void): LogoUpload {
  const t = useT();
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<LogoUpload['uploadError']>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const upload = async (file: File) => {
    setUploadError(null);
    setRefused(null);
    if (!['image/png', 'image/jpeg'].includes(file.type)) {
      setRefused(t('wizard.visual.logoNotImage', { file: file.name }));
      return;
    }
    if (file.size > LOGO_MAX_BYTES) {
      setRefused(t('wizard.visual.logoTooLarge', { file: file.name, mb: (file.size / 1024 / 1024).toFixed(1) }));
      return;
    }
    setUploading(true);
    try {
      onStored(await api.upload<UploadedLogo>('POST', '/uploads/logo', file));
    } catch (e) {
      setUploadError({ error: asApiError(e), file });
    } finally {
      setUploading(false);
    }
  };
  return { upload, uploading, uploadError, refused };
}
