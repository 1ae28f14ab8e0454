import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { MAX_PROMPT_LENGTH, createGenerationSchema, type CreateGenerationInput, type OutputFormat } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { Field, FieldGroupLabel } from '#/components/ui/field';
import { AlertIcon, CloseIcon, DiceIcon, ImagePlusIcon, InfoIcon, SparklesIcon } from '#/components/ui/icons';
import { Segmented } from '#/components/ui/segmented';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { formatInteger } from '#/lib/format';
import { randomSeed } from '#/lib/ids';
import { ModelPicker } from '#/features/models/components/model-picker';
import { useModels } from '#/features/models/hooks/use-models';
import { ReferenceTray } from '#/features/references/components/reference-tray';
import { useAddReferences } from '#/features/references/hooks/use-add-references';
import { useReferenceDrop } from '#/features/references/hooks/use-reference-drop';
import { getReferenceTray, useReferenceTray } from '#/features/references/reference-store';
import { highestMention, isUploading, referenceProblem } from '#/features/references/rules';
import { onPromptFocusRequest, selectedModel, updateDraft, useDraft } from '../draft-store';
import { useCreateGeneration } from '../hooks/use-generation-mutations';
import { checkCustomSize } from '../size';
import { RefineChip } from './refine-chip';
import { SizePicker } from './size-picker';
import './generate-panel.css';

type FieldErrors = Partial<Record<'model' | 'prompt' | 'aspect_ratio' | 'width' | 'height' | 'seed' | 'output_format' | 'references' | 'parent', string>>;

const MAX_SEED = 4_294_967_295;
const IS_MAC = /Mac|iPhone|iPad/.test(navigator.userAgent);

function seedProblem(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  if (!/^\d+$/.test(text.trim())) return 'the seed must be a whole number';
  if (Number(text) > MAX_SEED) return `the seed must be at most ${formatInteger(MAX_SEED)}`;
  return undefined;
}

export function GeneratePanel() {
  const draft = useDraft();
  const models = useModels();
  const create = useCreateGeneration();
  const toast = useToast();
  const ids = useId();
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  // Server messages about single references (`references.2`), by tile key so they follow a moved tile.
  const [referenceErrors, setReferenceErrors] = useState<Record<string, string>>({});
  const [isWaitingForUploads, setWaitingForUploads] = useState(false);
  const caretAfterInsert = useRef<number | null>(null);

  const list = models.data ?? [];
  const model = selectedModel(list, draft.modelId);
  const tray = useReferenceTray();
  const addReferences = useAddReferences(model, list);
  const drop = useReferenceDrop(addReferences, true);
  const referenceBlock = referenceProblem(tray, model);
  const maxReferences = model?.max_reference_images ?? 0;
  const mentioned = highestMention(draft.prompt);
  const mentionWarning =
    maxReferences > 0 && mentioned > tray.tiles.length
      ? `The prompt mentions image ${mentioned}, but ${tray.tiles.length === 0 ? 'no reference images are added' : `there ${tray.tiles.length === 1 ? 'is 1 reference' : `are ${tray.tiles.length} references`}`}.`
      : undefined;
  const format: OutputFormat | undefined = model && (draft.outputFormat && model.output_formats.includes(draft.outputFormat) ? draft.outputFormat : model.default_output_format);
  const custom = checkCustomSize(draft.width, draft.height, model);
  const promptLength = draft.prompt.length;
  const seedError = seedProblem(draft.seed);

  const change = (patch: Parameters<typeof updateDraft>[0]) => {
    updateDraft(patch);
    // A server error is about the values that were sent; once the user edits, it no longer applies.
    if (Object.keys(errors).length > 0) setErrors({});
    if (Object.keys(referenceErrors).length > 0) setReferenceErrors({});
  };

  /** "image 2" at the cursor (or over the selection), spaced from the words around it. */
  const insertIntoPrompt = (text: string) => {
    const el = promptRef.current;
    const value = draft.prompt;
    const start = el ? el.selectionStart : value.length;
    const end = el ? el.selectionEnd : value.length;
    const before = value.slice(0, start);
    const after = value.slice(end);
    const lead = before && !/\s$/.test(before) ? ' ' : '';
    const trail = after && !/^[\s,.;:!?)]/.test(after) ? ' ' : '';
    caretAfterInsert.current = before.length + lead.length + text.length;
    change({ prompt: `${before}${lead}${text}${trail}${after}` });
  };

  useLayoutEffect(() => {
    const caret = caretAfterInsert.current;
    if (caret === null || !promptRef.current) return;
    caretAfterInsert.current = null;
    promptRef.current.focus();
    promptRef.current.setSelectionRange(caret, caret);
  }, [draft.prompt]);

  useEffect(() => onPromptFocusRequest(() => {
    promptRef.current?.focus();
    promptRef.current?.setSelectionRange(promptRef.current.value.length, promptRef.current.value.length);
  }), []);

  const submit = () => {
    if (!model || format === undefined) return;
    if (draft.sizeMode === 'custom' && !custom.isValid) return;
    if (seedError) return;
    const references = getReferenceTray();
    if (isUploading(references)) {
      // Generate as soon as the uploads are in (see the effect below).
      setWaitingForUploads(true);
      return;
    }
    if (referenceProblem(references, model)) return;
    const sent = references.tiles;
    const input: CreateGenerationInput = {
      model: model.id,
      prompt: draft.prompt,
      ...(draft.sizeMode === 'ratio' ? { aspect_ratio: draft.aspectRatio } : { width: custom.width, height: custom.height }),
      ...(draft.seed.trim() ? { seed: Number(draft.seed) } : {}),
      output_format: format,
      ...(sent.length > 0 ? { references: sent.map((t) => t.id!) } : {}),
      ...(references.parent ? { parent: references.parent.id } : {}),
    };
    const parsed = createGenerationSchema.safeParse(input);
    if (!parsed.success) {
      const next: FieldErrors = {};
      for (const issue of parsed.error.issues) next[String(issue.path[0] ?? 'prompt') as keyof FieldErrors] ??= issue.message;
      setErrors(next);
      if (next.prompt) promptRef.current?.focus();
      return;
    }
    setErrors({});
    create.mutate(parsed.data, {
      onError: (error) => {
        if (isApiError(error) && error.fields.length > 0) {
          const next: FieldErrors = {};
          const perReference: Record<string, string> = {};
          for (const f of error.fields) {
            const [head, index] = f.path.split('.');
            const tile = head === 'references' && index !== undefined ? sent[Number(index)] : undefined;
            if (tile) perReference[tile.key] ??= f.message;
            else next[head as keyof FieldErrors] ??= f.message;
          }
          setErrors(next);
          setReferenceErrors(perReference);
          toast.error('Check the highlighted fields', error.message);
        } else {
          toast.error('Could not start the generation', describeError(error));
        }
      },
    });
  };

  // Ctrl/Cmd+Enter generates from anywhere in the studio, unless a dialog (the image detail) is on top.
  const submitRef = useRef(submit);
  submitRef.current = submit;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Enter' || !(event.metaKey || event.ctrlKey) || event.repeat) return;
      if (document.querySelector('dialog[open]')) return;
      event.preventDefault();
      submitRef.current();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  // A Generate pressed during uploads goes ahead once they are in, unless one failed.
  useEffect(() => {
    if (!isWaitingForUploads || isUploading(tray)) return;
    setWaitingForUploads(false);
    if (!referenceProblem(tray, model)) submitRef.current();
  }, [isWaitingForUploads, tray, model]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };

  const isPromptTooLong = promptLength > MAX_PROMPT_LENGTH;
  const canSubmit =
    Boolean(model) && draft.prompt.trim().length > 0 && !isPromptTooLong && !seedError && (draft.sizeMode === 'ratio' || custom.isValid) && !referenceBlock;
  const isBusy = create.isPending || isWaitingForUploads;

  return (
    <form className="generate-panel" onSubmit={onSubmit} aria-label="Generate an image" noValidate {...drop.handlers}>
      {drop.isOver && (
        <div className="generate-panel__drop" aria-hidden="true">
          <div className="generate-panel__drop-inner">
            <ImagePlusIcon size={28} />
            Drop to add as reference images
            {model && <small>{maxReferences > 0 ? `${tray.tiles.length} of ${maxReferences} used` : `${model.label} takes no reference images`}</small>}
          </div>
        </div>
      )}
      <div className="generate-panel__body">
        {tray.parent && <RefineChip parent={tray.parent} error={errors.parent} />}
        <Field
          label="Prompt"
          error={errors.prompt ?? (isPromptTooLong ? `the prompt must be at most ${formatInteger(MAX_PROMPT_LENGTH)} characters` : undefined)}
          hint={mentionWarning && <span className="prompt-hint--warning">{mentionWarning}</span>}
          aside={
            <span className={`prompt-counter${isPromptTooLong ? ' prompt-counter--over' : promptLength > MAX_PROMPT_LENGTH * 0.9 ? ' prompt-counter--near' : ''}`} aria-live="polite">
              {formatInteger(promptLength)} / {formatInteger(MAX_PROMPT_LENGTH)}
            </span>
          }
        >
          {({ id, describedBy, invalid }) => (
            <textarea
              ref={promptRef}
              id={id}
              className="input prompt-input"
              rows={5}
              placeholder="Describe the image you want — subject, setting, light, lens, mood…"
              value={draft.prompt}
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
              onChange={(e) => change({ prompt: e.target.value })}
            />
          )}
        </Field>

        <ReferenceTray tray={tray} model={model} models={list} add={addReferences} onInsert={insertIntoPrompt} serverErrors={referenceErrors} />
        {errors.references && <p className="field__error">{errors.references}</p>}

        <div className="field">
          <FieldGroupLabel id={`${ids}-model`}>Model</FieldGroupLabel>
          {models.isPending ? (
            <div className="skeleton skeleton--picker" aria-label="Loading models" />
          ) : models.isError ? (
            <div className="inline-error" role="alert">
              <AlertIcon size={16} />
              <span>Could not load models: {describeError(models.error)}</span>
              <Button size="sm" onClick={() => void models.refetch()}>
                Retry
              </Button>
            </div>
          ) : list.length === 0 ? (
            <p className="inline-error">No models are configured on this server. Ask the operator to enable one.</p>
          ) : (
            <ModelPicker
              models={list}
              value={model}
              labelId={`${ids}-model`}
              error={errors.model}
              onChange={(m) => change({ modelId: m.id })}
            />
          )}
          {errors.model && <p className="field__error">{errors.model}</p>}
          {model?.is_preview_engine && (
            <p className="preview-engine-note" title={model.description}>
              <InfoIcon size={14} />
              Offline preview engine — not a diffusion model
            </p>
          )}
        </div>

        <SizePicker
          draft={draft}
          model={model}
          onChange={change}
          serverErrors={{ aspect_ratio: errors.aspect_ratio, width: errors.width, height: errors.height }}
        />

        <div className="generate-panel__row">
          <Field label="Seed" error={errors.seed ?? seedError} className="seed-field" hint={draft.seed ? undefined : 'Empty: a random seed'}>
            {({ id, describedBy, invalid }) => (
              <div className="seed-input">
                <input
                  id={id}
                  className="input mono"
                  inputMode="numeric"
                  autoComplete="off"
                  placeholder="Random"
                  value={draft.seed}
                  aria-describedby={describedBy}
                  aria-invalid={invalid || undefined}
                  onChange={(e) => change({ seed: e.target.value.replace(/[^\d]/g, '') })}
                />
                {draft.seed && (
                  <IconButton label="Clear seed (use a random one)" size="sm" className="seed-input__clear" onClick={() => change({ seed: '' })}>
                    <CloseIcon size={14} />
                  </IconButton>
                )}
                <IconButton label="Roll a random seed" variant="secondary" onClick={() => change({ seed: String(randomSeed()) })}>
                  <DiceIcon size={17} />
                </IconButton>
              </div>
            )}
          </Field>

          {model && format && (
            <div className="field format-field">
              <FieldGroupLabel id={`${ids}-format`}>Format</FieldGroupLabel>
              <Segmented
                label="Output format"
                labelledBy={`${ids}-format`}
                value={format}
                options={model.output_formats.map((f) => ({ value: f, label: f === 'jpeg' ? 'JPEG' : f.toUpperCase() }))}
                onChange={(f) => change({ outputFormat: f })}
              />
              {errors.output_format && <p className="field__error">{errors.output_format}</p>}
            </div>
          )}
        </div>
      </div>

      <div className="generate-panel__footer">
        {referenceBlock && (
          <p className="generate-panel__blocked" id={`${ids}-blocked`}>
            <AlertIcon size={14} />
            <span>{referenceBlock}</span>
          </p>
        )}
        <Button
          type="submit"
          variant="primary"
          size="lg"
          className="generate-button"
          icon={<SparklesIcon size={18} />}
          isBusy={isBusy}
          disabled={!canSubmit}
          aria-keyshortcuts="Control+Enter Meta+Enter"
          aria-describedby={referenceBlock ? `${ids}-blocked` : undefined}
        >
          {isWaitingForUploads ? 'Uploading references…' : create.isPending ? 'Starting…' : 'Generate'}
          {!isBusy && (
            <span className="generate-button__kbd" aria-hidden="true">
              <kbd>{IS_MAC ? '⌘' : 'Ctrl'}</kbd>
              <kbd>↵</kbd>
            </span>
          )}
        </Button>
        {model && (
          <p className="generate-panel__cost">
            {model.price_credits === 0 ? 'Free on this model' : `${model.price_credits} credits per image up to 1 MP`}
          </p>
        )}
      </div>
    </form>
  );
}
