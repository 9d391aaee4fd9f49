import { Route, Routes, useLocation, Link } from 'react-router-dom';
import { Layout } from './components/Layout';
import { useT } from './i18n';
import ConfigurationTemplates from './pages/ConfigurationTemplates';
import Dashboard from './pages/Dashboard';
import Monitoring from './pages/Monitoring';
import NewProject from './pages/NewProject';
import Progress from './pages/Progress';
import PromptTemplates from './pages/PromptTemplates';
import Result from './pages/Result';
import Settings from './pages/Settings';
import Setup from './pages/Setup';

function NotFound() {
  const t = useT();
  const location = useLocation();
  return (
    <section>
      <h1>{t('page.notFound.title')}</h1>
      <p>{t('page.notFound.body', { path: location.pathname })}</p>
      <Link to="/">{t('page.notFound.home')}</Link>
    </section>
  );
}

export default function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route path="/" element={<Dashboard />} />
        <Route path="/setup" element={<Setup />} />
        <Route path="/projects/new" element={<NewProject />} />
        <Route path="/projects/:id" element={<Progress />} />
        <Route path="/projects/:id/result" element={<Result />} />
        <Route path="/templates/prompts" element={<PromptTemplates />} />
        <Route path="/templates/configurations" element={<ConfigurationTemplates />} />
        <Route path="/settings" element={<Settings />} />
        <Route path="/monitoring" element={<Monitoring />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
