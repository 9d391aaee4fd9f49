import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { adoptTokenFromAddress } from './accessToken';
import App from './App';
import { LangProvider } from './i18n';
import './styles.css';

// Before anything renders or asks the server: a sign-in link's token leaves the address bar.
adoptTokenFromAddress();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <LangProvider>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </LangProvider>
  </StrictMode>,
);
