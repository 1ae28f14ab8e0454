import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import {
  MAX_PROMPT_LENGTH,
  MAX_VARIATIONS,
  createGenerationSchema,
  quoteCredits,
  type CreateGenerationInput,
  type CreateGenerationResponse,
  type Model,
  type OutputFormat,
  type Quote,
} from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { Field, FieldGroupLabel } from '#/components/ui/field';
import { AlertIcon, CloseIcon, DiceIcon, ImagePlusIcon, InfoIcon, SparklesIcon } from '#/components/ui/icons';
import { Segmented } from '#/components/ui/segmented';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { formatInteger } from '#/lib/format';
import { randomSeed } from '#/lib/ids';
import { describeAdmissionError } from '#/features/credits/admission';
import { CreditShortfall } from '#/features/credits/components/credit-shortfall';
import { useAccount } from '#/features/credits/hooks/use-account';
import { useGenerationErrorToast } from '#/features/credits/hooks/use-generation-error-toast';
import { ModelPicker } from '#/features/models/components/model-picker';
import { useModels } from '#/features/models/hooks/use-models';
import { PromptBuilder } from '#/features/prompting/components/prompt-builder';
import { StructuredEditor } from '#/features/prompting/components/structured-editor';
import { compileDraft, switchPromptMode, type PromptMode } from '#/features/prompting/prompt-draft';
import { ReferenceTray } from '#/features/references/components/reference-tray';
import { useAddReferences } from '#/features/references/hooks/use-add-references';
import { useReferenceDrop } from '#/features/references/hooks/use-reference-drop';
import { getReferenceTray, useReferenceTray } from '#/features/references/reference-store';
import { highestMention, isUploading, referenceProblem } from '#/features/references/rules';
import { generationKeys, getGeneration } from '../api';
import { upsertGeneration } from '../cache';
import { onPromptFocusRequest, selectedModel, updateDraft, useDraft } from '../draft-store';
import { useCreateGeneration } from '../hooks/use-generation-mutations';
import { checkCustomSize, presetSize } from '../size';
import { RefineChip } from './refine-chip';
import { SizePicker } from './size-picker';
import '#/components/ui/inline-warning.css';
import './generate-panel.css';

type FieldErrors = Partial<Record<'model' | 'prompt' | 'aspect_ratio' | 'width' | 'height' | 'seed' | 'output_format' | 'references' | 'parent' | 'count', string>>;

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
  const showGenerationError = useGenerationErrorToast();
  const account = useAccount();
  const ids = useId();
  const client = useQueryClient();
  const promptRef = useRef<HTMLTextAreaElement>(null);
  const sceneRef = useRef<HTMLTextAreaElement>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  // Server messages about single references (`references.2`), by tile key so they follow a moved tile.
  const [referenceErrors, setReferenceErrors] = useState<Record<string, string>>({});
  const [isWaitingForUploads, setWaitingForUploads] = useState(false);
  const caretAfterInsert = useRef<number | null>(null);

  // Upscalers take a finished image, not a prompt: they are offered on the image (Upscale menu), not here.
  const list = (models.data ?? []).filter((m) => !m.workflows.includes('upscale'));
  const model = selectedModel(list, draft.modelId);
  const tray = useReferenceTray();
  const addReferences = useAddReferences(model, list);
  const drop = useReferenceDrop(addReferences, true);
  const referenceBlock = referenceProblem(tray, model);
  const maxReferences = model?.max_reference_images ?? 0;
  const format: OutputFormat | undefined = model && (draft.outputFormat && model.output_formats.includes(draft.outputFormat) ? draft.outputFormat : model.default_output_format);
  const custom = checkCustomSize(draft.width, draft.height, model);
  const promptLength = draft.prompt.length;
  const seedError = seedProblem(draft.seed);
  const isStructured = draft.promptMode === 'structured';
  // What is sent as `prompt`: the text as typed, or built from typography, palette and the structured form.
  const compiled = useMemo(() => compileDraft(draft), [draft]);
  const builderBlock = compiled.problems[0];
  const mentioned = highestMention(compiled.prompt);
  const mentionWarning =
    maxReferences > 0 && mentioned > tray.tiles.length
      ? `The prompt mentions image ${mentioned}, but ${tray.tiles.length === 0 ? 'no reference images are added' : `there ${tray.tiles.length === 1 ? 'is 1 reference' : `are ${tray.tiles.length} references`}`}.`
      : undefined;
  // The price of exactly what Generate sends: the size the server will render, the references, the count.
  const size = draft.sizeMode === 'ratio' ? (model ? presetSize(draft.aspectRatio, model) : null) : custom.isValid ? { width: custom.width, height: custom.height } : null;
  const quote = model && size ? quoteCredits(model, { ...size, references: tray.tiles.length, count: draft.count }) : null;
  // Known to be short only once the balance is loaded: an unreadable account does not block (the server decides).
  const available = account.data?.credits.available;
  const isShort = quote !== null && available !== undefined && quote.credits > available;

  const change = (patch: Parameters<typeof updateDraft>[0]) => {
    updateDraft(patch);
    // A server error is about the values that were sent; once the user edits, it no longer applies.
    if (Object.keys(errors).length > 0) setErrors({});
    if (Object.keys(referenceErrors).length > 0) setReferenceErrors({});
  };

  /** "image 2" at the cursor (or over the selection), spaced from the words around it. */
  const insertIntoPrompt = (text: string) => {
    if (draft.promptMode === 'structured') {
      insertIntoScene(text);
      return;
    }
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

  /** Structured mode: "image 2" goes at the end of the scene (unless the JSON view holds unparsable text). */
  const insertIntoScene = (text: string) => {
    if (compiled.structuredErrors.length > 0 && draft.structuredJson !== null) {
      toast.error('Fix the structured JSON first', `Then add “${text}” where it belongs.`);
      return;
    }
    const scene = draft.structured.scene;
    change({ structured: { ...draft.structured, scene: `${scene}${scene && !/\s$/.test(scene) ? ' ' : ''}${text}` }, structuredJson: null });
    requestAnimationFrame(() => sceneRef.current?.focus());
  };

  useLayoutEffect(() => {
    const caret = caretAfterInsert.current;
    if (caret === null || !promptRef.current) return;
    caretAfterInsert.current = null;
    promptRef.current.focus();
    promptRef.current.setSelectionRange(caret, caret);
  }, [draft.prompt]);

  useEffect(() => onPromptFocusRequest(() => {
    const el = promptRef.current ?? sceneRef.current;
    el?.focus();
    el?.setSelectionRange(el.value.length, el.value.length);
  }), []);

  const switchMode = (mode: PromptMode) => change(switchPromptMode(draft, mode));

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
    if (builderBlock) return;
    const sent = references.tiles;
    const input: CreateGenerationInput = {
      model: model.id,
      prompt: compiled.prompt,
      ...(draft.sizeMode === 'ratio' ? { aspect_ratio: draft.aspectRatio } : { width: custom.width, height: custom.height }),
      ...(draft.seed.trim() ? { seed: Number(draft.seed) } : {}),
      output_format: format,
      ...(sent.length > 0 ? { references: sent.map((t) => t.id!) } : {}),
      ...(references.parent ? { parent: references.parent.id } : {}),
      ...(draft.count > 1 ? { count: draft.count } : {}),
    };
    const parsed = createGenerationSchema.safeParse(input);
    if (!parsed.success) {
      const next: FieldErrors = {};
      for (const issue of parsed.error.issues) next[String(issue.path[0] ?? 'prompt') as keyof FieldErrors] ??= issue.message;
      setErrors(next);
      if (next.prompt) (promptRef.current ?? sceneRef.current)?.focus();
      return;
    }
    setErrors({});
    create.mutate(parsed.data, {
      onSuccess: (created) => showWholeBatch(client, created),
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
          // A size beyond the plan points at the field and says how to raise the limit.
          if (describeAdmissionError(error)) showGenerationError('Could not start the generation', error);
          else toast.error('Check the highlighted fields', error.message);
        } else {
          showGenerationError('Could not start the generation', error);
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

  const isPromptTooLong = compiled.prompt.length > MAX_PROMPT_LENGTH;
  const canSubmit =
    Boolean(model) &&
    compiled.prompt.trim().length > 0 &&
    !isPromptTooLong &&
    !builderBlock &&
    !seedError &&
    (draft.sizeMode === 'ratio' || custom.isValid) &&
    !referenceBlock &&
    !isShort;
  const isBusy = create.isPending || isWaitingForUploads;
  const blocked = referenceBlock ?? builderBlock;
  const seedHint = draft.seed && !seedError && draft.count > 1 ? `${draft.count} images: seeds ${draft.seed} to ${Number(draft.seed) + draft.count - 1}` : draft.seed ? undefined : 'Empty: a random seed';
  const promptError = errors.prompt ?? (isPromptTooLong ? `the prompt is ${formatInteger(compiled.prompt.length - MAX_PROMPT_LENGTH)} characters over the limit of ${formatInteger(MAX_PROMPT_LENGTH)}` : undefined);
  const modeSwitch = (
    <Segmented
      label="Write as"
      value={draft.promptMode}
      options={[
        { value: 'text', label: 'Text', title: 'A description in your own words' },
        { value: 'structured', label: 'Structured', title: 'BFL’s JSON prompt: scene, subjects, style, lighting, camera…' },
      ]}
      onChange={switchMode}
    />
  );

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
        {isStructured ? (
          <div className="field prompt-field">
            <FieldGroupLabel id={`${ids}-structured`} aside={modeSwitch}>
              Prompt
            </FieldGroupLabel>
            <StructuredEditor draft={draft} errors={compiled.structuredErrors} sceneRef={sceneRef} onChange={change} />
            {promptError && <p className="field__error">{promptError}</p>}
            {!promptError && mentionWarning && <p className="field__hint prompt-hint--warning">{mentionWarning}</p>}
          </div>
        ) : (
          <Field
            label="Prompt"
            className="prompt-field"
            error={promptError}
            hint={mentionWarning && <span className="prompt-hint--warning">{mentionWarning}</span>}
            aside={modeSwitch}
          >
            {({ id, describedBy, invalid }) => (
              <div className="prompt-box">
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
                <span className={`prompt-counter prompt-box__counter${promptLength > MAX_PROMPT_LENGTH ? ' prompt-counter--over' : promptLength > MAX_PROMPT_LENGTH * 0.9 ? ' prompt-counter--near' : ''}`}>
                  {formatInteger(promptLength)} / {formatInteger(MAX_PROMPT_LENGTH)}
                </span>
              </div>
            )}
          </Field>
        )}

        <PromptBuilder draft={draft} compiled={compiled} onChange={change} />

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
          <Field label="Seed" error={errors.seed ?? seedError} className="seed-field" hint={seedHint}>
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

        <div className="field count-field">
          <FieldGroupLabel id={`${ids}-count`} aside={draft.count > 1 ? <span className="count-field__note">each its own generation</span> : undefined}>
            Images
          </FieldGroupLabel>
          <Segmented
            label="Images"
            labelledBy={`${ids}-count`}
            value={String(draft.count)}
            options={Array.from({ length: MAX_VARIATIONS }, (_, i) => ({ value: String(i + 1), label: String(i + 1), title: i === 0 ? 'One image' : `${i + 1} variations at once` }))}
            onChange={(v) => change({ count: Number(v) })}
          />
          {errors.count && <p className="field__error">{errors.count}</p>}
        </div>
      </div>

      <div className="generate-panel__footer">
        {blocked && (
          <p className="inline-warning" id={`${ids}-blocked`}>
            <AlertIcon size={14} />
            <span>{blocked}</span>
          </p>
        )}
        {!blocked && isShort && quote && account.data && (
          <CreditShortfall id={`${ids}-short`} price={quote.credits} available={account.data.credits.available} paymentsEnabled={account.data.payments_enabled} />
        )}
        <div className="generate-action">
          <Button
            type="submit"
            variant="primary"
            size="lg"
            className="generate-button"
            icon={<SparklesIcon size={18} />}
            isBusy={isBusy}
            disabled={!canSubmit}
            aria-keyshortcuts="Control+Enter Meta+Enter"
            aria-describedby={[blocked ? `${ids}-blocked` : null, !blocked && isShort ? `${ids}-short` : null, quote ? `${ids}-price` : null].filter(Boolean).join(' ') || undefined}
          >
            {isWaitingForUploads ? 'Uploading references…' : create.isPending ? 'Starting…' : `Generate${draft.count > 1 ? ` ${draft.count}` : ''}`}
            {!isBusy && quote && <span className="generate-button__price">· {formatCredits(quote.credits)}</span>}
          </Button>
          {model && quote && size && <PriceBreakdown id={`${ids}-price`} model={model} quote={quote} size={size} />}
        </div>
        <div className="generate-panel__meta">
          {model && (
            <p className="generate-panel__cost">
              {quote && size ? (
                <>
                  {size.width} × {size.height}
                  {' · '}
                  {quote.credits === 0 ? 'Free on this model' : `${formatCredits(quote.per_image)} per image`}
                </>
              ) : (
                'Enter a valid size to see the price'
              )}
            </p>
          )}
          <span className="generate-panel__kbd" aria-hidden="true">
            <kbd>{IS_MAC ? '⌘' : 'Ctrl'}</kbd>
            <kbd>↵</kbd>
          </span>
        </div>
      </div>
    </form>
  );
}

function formatCredits(credits: number): string {
  if (credits === 0) return 'Free';
  return `${formatInteger(credits)} ${credits === 1 ? 'credit' : 'credits'}`;
}

/** How the price adds up, shown while the Generate button is hovered or focused (and read with it). */
function PriceBreakdown({ id, model, quote, size }: { id: string; model: Model; quote: Quote; size: { width: number; height: number } }) {
  return (
    <div className="price-tip" role="tooltip" id={id}>
      <p className="price-tip__title">
        {model.label} · {size.width} × {size.height}
      </p>
      {quote.credits === 0 ? (
        <p className="price-tip__free">Free: this model costs no credits.</p>
      ) : (
        <dl className="price-tip__rows">
          {quote.breakdown.map((row) => (
            <div key={row.label} className="price-tip__row">
              <dt>{row.label}</dt>
              <dd>{formatInteger(row.credits)}</dd>
            </div>
          ))}
          <div className="price-tip__row price-tip__row--total">
            <dt>Total</dt>
            <dd>{formatCredits(quote.credits)}</dd>
          </div>
        </dl>
      )}
    </div>
  );
}

/**
 * The other generations of a batch (count > 1) arrive over the event stream. Any not seen shortly after
 * (the stream is reconnecting, say) are fetched, so every image the user pressed Generate for shows up.
 */
function showWholeBatch(client: QueryClient, created: CreateGenerationResponse): void {
  const others = created.batch.filter((id) => id !== created.id);
  if (others.length === 0) return;
  setTimeout(() => {
    for (const id of others) {
      if (client.getQueryData(generationKeys.detail(id))) continue;
      getGeneration(id).then(
        (generation) => upsertGeneration(client, generation),
        () => undefined, // deleted meanwhile, or offline: the next event or reconnect brings it
      );
    }
  }, 2_000);
}
