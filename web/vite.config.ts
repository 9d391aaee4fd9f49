import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a running `ytmaker serve` (YTMAKER_API, default port 8000).
// The server's Host/Origin guard accepts only its own host:port, so the proxy rewrites both.
const api = process.env.YTMAKER_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: true, ws: true, headers: { origin: api } },
    },
  },
});
