// Prompt templates: list, create, edit, duplicate, delete. The server validates (name length,
// `{article}` in the content, the protected default); its answers are shown at the field.

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, api, asApiError } from '../api';
import { ErrorNotice } from '../errors';
import { FieldError, describedBy, fieldErrorId, fieldErrors } from '../components/fieldErrors';
import { useTemplateList } from '../templateList';
import { formatDateTime } from '../format';
import { useLang, useT } from '../i18n';

interface PromptTemplate {
  id: string;
  name: string;
  content: string;
  is_default: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

type Editing = { mode: 'new' } | { mode: 'edit'; template: PromptTemplate };

const FORM = 'prompt';

function Editor({
  editing,
  onSaved,
  onCancel,
}: {
  editing: Editing;
  onSaved: (t: PromptTemplate) => void;
  onCancel: () => void;
}) {
  const t = useT();
  const [name, setName] = useState(editing.mode === 'edit' ? editing.template.name : '');
  const [content, setContent] = useState(editing.mode === 'edit' ? editing.template.content : '{article}');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = fieldErrors(error);
  const heading = useRef<HTMLHeadingElement>(null);
  // The editor opens below the list: take the keyboard (and the view) there.
  useEffect(() => heading.current?.focus(), []);

  const save = async () => {
    setBusy(true);
    try {
      const body = { name, content };
      const saved =
        editing.mode === 'new'
          ? await api.send<PromptTemplate>('POST', '/prompt-templates', body)
          : await api.send<PromptTemplate>('PUT', `/prompt-templates/${editing.template.id}`, body);
      setError(null);
      onSaved(saved);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save();
  };

  return (
    <form className="stacked-form editor" onSubmit={submit} noValidate data-testid="prompt-editor">
      <h2 ref={heading} tabIndex={-1}>
        {editing.mode === 'new' ? t('prompts.new') : t('prompts.editing', { name: editing.template.name })}
      </h2>
      <label htmlFor="prompt-name">{t('prompts.name')}</label>
      <input
        id="prompt-name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        data-testid="prompt-name"
        {...describedBy(FORM, 'name', errors)}
      />
      <FieldError form={FORM} field="name" errors={errors} />
      <label htmlFor="prompt-content">{t('prompts.content')}</label>
      <p className="muted" id="prompt-content-help">
        {t('prompts.contentHelp')}
      </p>
      <textarea
        id="prompt-content"
        rows={14}
        value={content}
        onChange={(e) => setContent(e.target.value)}
        data-testid="prompt-content"
        {...describedBy(FORM, 'content', errors)}
        aria-describedby={
          errors.content === undefined ? 'prompt-content-help' : `prompt-content-help ${fieldErrorId(FORM, 'content')}`
        }
      />
      <p className="muted">{t('prompts.chars', { count: [...content].length })}</p>
      <FieldError form={FORM} field="content" errors={errors} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy} data-testid="prompt-save">
          {t('common.save')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
      {error && <ErrorNotice error={error} context="prompt templates: save" onRetry={save} />}
    </form>
  );
}

export default function PromptTemplates() {
  const t = useT();
  const { lang } = useLang();
  const [editing, setEditing] = useState<Editing | null>(null);
  const { templates, loadError, actionError, confirming, setConfirming, notice, setNotice, load, duplicate, remove } =
    useTemplateList<PromptTemplate>('/prompt-templates');

  return (
    <section aria-labelledby="prompts-title">
      <h1 id="prompts-title">{t('prompts.title')}</h1>
      <p className="muted">{t('prompts.intro')}</p>
      <div className="actions">
        <button
          type="button"
          className="primary"
          onClick={() => setEditing({ mode: 'new' })}
          data-testid="prompt-new"
        >
          {t('prompts.new')}
        </button>
      </div>
      <div role="status" aria-live="polite" data-testid="templates-notice">
        {notice}
      </div>
      {actionError && (
        <ErrorNotice error={actionError.error} context="prompt templates" onRetry={actionError.retry} />
      )}
      {editing && (
        <Editor
          key={editing.mode === 'edit' ? editing.template.id : 'new'}
          editing={editing}
          onCancel={() => setEditing(null)}
          onSaved={(saved) => {
            setEditing(null);
            setNotice(t('templates.saved', { name: saved.name }));
            void load();
          }}
        />
      )}
      {loadError && <ErrorNotice error={loadError} context="prompt templates: list" onRetry={load} />}
      {!templates && !loadError && <p role="status">{t('common.loading')}</p>}
      {templates && (
        <div className="table-wrap">
          <table data-testid="prompt-table">
            <caption className="visually-hidden">{t('prompts.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('prompts.name')}</th>
                <th scope="col">{t('prompts.version')}</th>
                <th scope="col">{t('templates.updated')}</th>
                <th scope="col">{t('templates.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {templates.map((tpl) => (
                <tr key={tpl.id} data-testid="prompt-row">
                  <th scope="row">
                    <span data-testid="prompt-row-name">{tpl.name}</span>
                    {tpl.is_default && <span className="badge">{t('prompts.default')}</span>}
                  </th>
                  <td>{tpl.version}</td>
                  <td>
                    <time dateTime={tpl.updated_at}>{formatDateTime(tpl.updated_at, lang)}</time>
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      onClick={() => setEditing({ mode: 'edit', template: tpl })}
                      aria-label={t('templates.editNamed', { name: tpl.name })}
                    >
                      {t('templates.edit')}
                    </button>
                    <button
                      type="button"
                      onClick={() => void duplicate(tpl)}
                      aria-label={t('templates.duplicateNamed', { name: tpl.name })}
                    >
                      {t('templates.duplicate')}
                    </button>
                    {confirming === tpl.id ? (
                      <span className="confirm">
                        <span>{t('templates.confirmDelete')}</span>
                        <button type="button" className="danger" onClick={() => void remove(tpl)} data-testid="confirm-delete">
                          {t('common.yes')}
                        </button>
                        <button type="button" onClick={() => setConfirming(null)}>
                          {t('common.no')}
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        onClick={() => setConfirming(tpl.id)}
                        aria-label={t('templates.deleteNamed', { name: tpl.name })}
                      >
                        {t('templates.delete')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
