import { useId, useState, type ReactNode, type Ref } from 'react';
import { MAX_SUBJECTS, parseStructuredPrompt, type PromptIssue } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { AlertIcon, CheckIcon, CloseIcon, PlusIcon } from '#/components/ui/icons';
import { Segmented } from '#/components/ui/segmented';
import {
  CAMERA_FIELDS,
  editStructuredJson,
  newSubject,
  structuredJsonText,
  type CameraField,
  type PromptDraft,
  type StructuredForm,
  type StructuredTextField,
  type SubjectItem,
} from '../prompt-draft';
import './prompting.css';

interface StructuredEditorProps {
  draft: Pick<PromptDraft, 'structured' | 'structuredJson'>;
  errors: PromptIssue[];
  onChange: (patch: Pick<PromptDraft, 'structured' | 'structuredJson'>) => void;
  /** The scene field, focused when the panel asks for the prompt. */
  sceneRef?: Ref<HTMLTextAreaElement>;
}

type View = 'form' | 'json';

const TEXT_FIELDS: { field: StructuredTextField; label: string; placeholder: string; isLong?: boolean }[] = [
  { field: 'scene', label: 'Scene', placeholder: 'A flower shop storefront on a quiet street at dawn', isLong: true },
  { field: 'style', label: 'Style', placeholder: 'editorial photography, clean and modern' },
  { field: 'lighting', label: 'Lighting', placeholder: 'soft golden-hour light from the left' },
  { field: 'mood', label: 'Mood', placeholder: 'calm, inviting' },
  { field: 'background', label: 'Background', placeholder: 'pale plaster wall' },
  { field: 'composition', label: 'Composition', placeholder: 'rule of thirds, subject left' },
];
const CAMERA_LABELS: Record<CameraField, { label: string; placeholder: string }> = {
  angle: { label: 'Angle', placeholder: 'eye level' },
  lens: { label: 'Lens', placeholder: '50mm f/1.8' },
  depth_of_field: { label: 'Depth of field', placeholder: 'shallow' },
};

/**
 * BFL's JSON prompt, as a form or as the JSON itself. Both edit the same draft: a valid JSON edit updates
 * the form; an invalid one is kept as typed, with its errors, until it is fixed (or the form overwrites it).
 */
export function StructuredEditor({ draft, errors, onChange, sceneRef }: StructuredEditorProps) {
  const ids = useId();
  const [view, setView] = useState<View>(draft.structuredJson !== null ? 'json' : 'form');
  const form = draft.structured;
  const jsonErrors = draft.structuredJson !== null ? errors : [];
  const errorAt = (path: string) => (draft.structuredJson === null ? errors.find((e) => e.path === path)?.message : undefined);

  // A form edit is the new truth: it replaces whatever the JSON view held.
  const setForm = (patch: Partial<StructuredForm>) => onChange({ structured: { ...form, ...patch }, structuredJson: null });
  const setSubject = (key: string, patch: Partial<SubjectItem>) => setForm({ subjects: form.subjects.map((s) => (s.key === key ? { ...s, ...patch } : s)) });
  const addSubject = () => {
    const subject = newSubject();
    setForm({ subjects: [...form.subjects, subject] });
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-subject="${CSS.escape(subject.key)}"] textarea`)?.focus());
  };

  const json = structuredJsonText(draft);
  const formatJson = () => {
    const parsed = parseStructuredPrompt(json);
    if (parsed.ok) onChange({ structured: form, structuredJson: JSON.stringify(JSON.parse(json), null, 2) });
  };

  return (
    <div className="structured">
      <div className="structured__bar">
        <span className="structured__bar-label" id={`${ids}-view`}>
          Edit as
        </span>
        <Segmented
          label="Edit as"
          labelledBy={`${ids}-view`}
          value={view}
          options={[
            { value: 'form', label: 'Form' },
            { value: 'json', label: 'JSON' },
          ]}
          onChange={setView}
        />
      </div>

      {view === 'form' ? (
        <div className="structured__form">
          {draft.structuredJson !== null && errors.length > 0 && (
            <p className="structured__notice" role="status">
              <AlertIcon size={14} />
              <span>The JSON has errors, so the form shows its last valid version. Fix the JSON, or edit here to replace it.</span>
            </p>
          )}
          {TEXT_FIELDS.slice(0, 1).map(({ field, label, placeholder }) => (
            <MiniField key={field} label={label} error={errorAt(field)}>
              {(props) => <textarea ref={sceneRef} className="input structured__scene" rows={2} placeholder={placeholder} value={form[field]} onChange={(e) => setForm({ [field]: e.target.value })} {...props} />}
            </MiniField>
          ))}

          <fieldset className="structured__subjects">
            <legend className="mini-field__label">Subjects</legend>
            {form.subjects.length === 0 && <p className="prompting-empty">The main things in the picture, each with where it is and what it does.</p>}
            <ol className="subject-list">
              {form.subjects.map((s, i) => (
                <li key={s.key} className="subject-item" data-subject={s.key} role="group" aria-label={`Subject ${i + 1}`}>
                  <div className="type-item__head">
                    <span className="type-item__index" aria-hidden="true">
                      {i + 1}
                    </span>
                    <span className="subject-item__title" aria-hidden="true">
                      Subject
                    </span>
                    <span className="type-item__tools">
                      <IconButton label={`Remove subject ${i + 1}`} size="sm" onClick={() => setForm({ subjects: form.subjects.filter((x) => x.key !== s.key) })}>
                        <CloseIcon size={14} />
                      </IconButton>
                    </span>
                  </div>
                  <MiniField label="Description" error={errorAt(`subjects[${i}].description`)}>
                    {(props) => <textarea className="input" rows={1} placeholder="a ceramic vase with tulips" value={s.description} onChange={(e) => setSubject(s.key, { description: e.target.value })} {...props} />}
                  </MiniField>
                  <div className="subject-item__grid">
                    <MiniField label="Position" error={errorAt(`subjects[${i}].position`)}>
                      {(props) => <input className="input" placeholder="center, on the counter" value={s.position} onChange={(e) => setSubject(s.key, { position: e.target.value })} {...props} />}
                    </MiniField>
                    <MiniField label="Action" error={errorAt(`subjects[${i}].action`)}>
                      {(props) => <input className="input" placeholder="catching the light" value={s.action} onChange={(e) => setSubject(s.key, { action: e.target.value })} {...props} />}
                    </MiniField>
                  </div>
                </li>
              ))}
            </ol>
            <div className="prompting-actions">
              <Button size="sm" icon={<PlusIcon size={14} />} disabled={form.subjects.length >= MAX_SUBJECTS} onClick={addSubject}>
                Add subject
              </Button>
            </div>
          </fieldset>

          <div className="structured__grid">
            {TEXT_FIELDS.slice(1).map(({ field, label, placeholder }) => (
              <MiniField key={field} label={label} error={errorAt(field)}>
                {(props) => <input className="input" placeholder={placeholder} value={form[field]} onChange={(e) => setForm({ [field]: e.target.value })} {...props} />}
              </MiniField>
            ))}
          </div>

          <fieldset className="structured__camera">
            <legend className="mini-field__label">Camera</legend>
            <div className="structured__camera-grid">
              {CAMERA_FIELDS.map((f) => (
                <MiniField key={f} label={CAMERA_LABELS[f].label} error={errorAt(`camera.${f}`)}>
                  {(props) => <input className="input" placeholder={CAMERA_LABELS[f].placeholder} value={form.camera[f]} onChange={(e) => setForm({ camera: { ...form.camera, [f]: e.target.value } })} {...props} />}
                </MiniField>
              ))}
            </div>
          </fieldset>

          {form.color_palette.length > 0 && (
            <p className="structured__colors">
              <span>color_palette from the JSON:</span>
              {form.color_palette.map((c) => (
                <span key={c} className="structured__color mono">
                  <span className="swatch-dot" style={{ background: c }} />
                  {c}
                </span>
              ))}
            </p>
          )}
        </div>
      ) : (
        <div className="structured__json-view">
          <textarea
            className="input mono structured__json"
            aria-label="Structured JSON"
            spellCheck={false}
            autoCapitalize="off"
            autoComplete="off"
            value={json}
            rows={12}
            aria-invalid={jsonErrors.length > 0 || undefined}
            aria-describedby={`${ids}-json-status`}
            onChange={(e) => onChange(editStructuredJson(draft, e.target.value))}
          />
          <div id={`${ids}-json-status`} aria-live="polite">
            {jsonErrors.length > 0 ? (
              <ul className="structured__errors">
                {jsonErrors.map((e, i) => (
                  <li key={i}>
                    <AlertIcon size={13} />
                    <span>
                      {e.path && <code>{e.path}</code>} {e.message}
                    </span>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="structured__valid">
                <CheckIcon size={13} /> Valid structured prompt
              </p>
            )}
          </div>
          <div className="prompting-actions">
            <Button size="sm" disabled={jsonErrors.length > 0} onClick={formatJson}>
              Format JSON
            </Button>
          </div>
          <p className="structured__schema">
            BFL’s fields: <code>scene</code>, <code>subjects</code> [{'{'} <code>description</code>, <code>position</code>, <code>action</code> {'}'}], <code>style</code>,{' '}
            <code>color_palette</code> [&quot;#rrggbb&quot;], <code>lighting</code>, <code>mood</code>, <code>background</code>, <code>composition</code>, <code>camera</code> {'{'}{' '}
            <code>angle</code>, <code>lens</code>, <code>depth_of_field</code> {'}'}. Typography and palette are added from their sections.
          </p>
        </div>
      )}
    </div>
  );
}

interface MiniFieldProps {
  label: string;
  error?: string | undefined;
  className?: string;
  children: (props: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}

function MiniField({ label, error, className, children }: MiniFieldProps) {
  const id = useId();
  return (
    <div className={['mini-field', className].filter(Boolean).join(' ')}>
      <label className="mini-field__label" htmlFor={id}>
        {label}
      </label>
      {children({ id, ...(error ? { 'aria-invalid': true, 'aria-describedby': `${id}-error` } : {}) })}
      {error && (
        <span className="field__error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}
