import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { createKitSchema, kitNameSchema, MAX_KIT_REFERENCES, type Kit } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { ConfirmDialog } from '#/components/ui/confirm-dialog';
import { AlertIcon, TrashIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { describeError, isApiError } from '#/lib/api-client';
import { formatRelative } from '#/lib/format';
import { useKitMutations, useKits } from '../hooks/use-library';
import type { ReadyReference, ReferenceTray } from '../reference-store';
import { Thumbnail } from './library-picker';

interface LibraryKitsProps {
  tray: ReferenceTray;
  /** Adds the kit's references to the tray; returns how many were added. */
  onApply: (kit: Kit, references: ReadyReference[]) => void;
  /** Put the cursor in the name field at once (opened from "Save as kit…"). */
  focusSave: boolean;
}

const SHOWN_THUMBS = 4;

/** Named kits: save the tray as one, apply one to the tray, rename, delete. */
export function LibraryKits({ tray, onApply, focusSave }: LibraryKitsProps) {
  const kits = useKits(true);
  const { update, remove } = useKitMutations();
  const toast = useToast();
  const [renaming, setRenaming] = useState<string | null>(null);
  const [toDelete, setToDelete] = useState<Kit | null>(null);

  const confirmDelete = () => {
    if (!toDelete) return;
    remove.mutate(toDelete.id, {
      onSuccess: () => toast.success(`Kit “${toDelete.name}” deleted`, 'Its uploads and images are still in your library.'),
      onError: (error) => toast.error('Could not delete the kit', describeError(error)),
      onSettled: () => setToDelete(null),
    });
  };

  return (
    <div className="lib-kits">
      <SaveKitForm tray={tray} autoFocus={focusSave} />

      {kits.isPending ? (
        <div className="lib-kits__list">
          {Array.from({ length: 3 }, (_, i) => (
            <div key={i} className="skeleton lib-kits__skeleton" />
          ))}
        </div>
      ) : kits.isError ? (
        <div className="inline-error" role="alert">
          <AlertIcon size={16} />
          <span>Could not load your kits: {describeError(kits.error)}</span>
          <Button size="sm" onClick={() => void kits.refetch()}>
            Retry
          </Button>
        </div>
      ) : kits.data.length === 0 ? (
        <div className="lib-empty">
          <p className="lib-empty__title">No kits yet</p>
          <p>A kit is a set of references you use together — a character, a brand, a product. Put them in the tray, then save the tray as a kit above.</p>
        </div>
      ) : (
        <ul className="lib-kits__list" aria-label="Your kits">
          {kits.data.map((kit) => (
            <li key={kit.id} className="kit-row">
              <div className="kit-row__thumbs" aria-hidden="true">
                {kit.references.slice(0, SHOWN_THUMBS).map((ref) => (
                  <span key={ref.id} className="kit-row__thumb">
                    <Thumbnail src={ref.thumbnail_url} />
                  </span>
                ))}
                {kit.references.length > SHOWN_THUMBS && <span className="kit-row__more">+{kit.references.length - SHOWN_THUMBS}</span>}
                {kit.references.length === 0 && <span className="kit-row__thumb kit-row__thumb--empty" />}
              </div>
              {renaming === kit.id ? (
                <RenameForm
                  kit={kit}
                  isBusy={update.isPending}
                  onCancel={() => setRenaming(null)}
                  onSave={(name, setError) =>
                    update.mutate(
                      { id: kit.id, input: { name } },
                      {
                        onSuccess: () => setRenaming(null),
                        onError: (error) => setError(isApiError(error) ? (error.fieldMessage('name') ?? error.message) : describeError(error)),
                      },
                    )
                  }
                />
              ) : (
                <>
                  <div className="kit-row__main">
                    <span className="kit-row__name">{kit.name}</span>
                    <span className="kit-row__meta">
                      {kit.references.length === 0 ? 'Empty: its images were deleted' : `${kit.references.length} ${kit.references.length === 1 ? 'reference' : 'references'}`} · updated{' '}
                      {formatRelative(kit.updated_at)}
                    </span>
                  </div>
                  <div className="kit-row__actions">
                    <Button
                      size="sm"
                      variant="primary"
                      disabled={kit.references.length === 0}
                      aria-label={`Apply ${kit.name}`}
                      onClick={() => onApply(kit, kit.references.map((ref, i) => ({ kind: ref.kind, id: ref.id, thumbnailUrl: ref.thumbnail_url, name: `${kit.name} · ${i + 1}` })))}
                    >
                      Apply
                    </Button>
                    <Button size="sm" variant="ghost" aria-label={`Rename ${kit.name}`} onClick={() => setRenaming(kit.id)}>
                      Rename
                    </Button>
                    <Button size="sm" variant="ghost" className="kit-row__delete" aria-label={`Delete ${kit.name}`} title="Delete kit" onClick={() => setToDelete(kit)}>
                      <TrashIcon size={15} />
                    </Button>
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      )}

      {toDelete && (
        <ConfirmDialog title={`Delete the kit “${toDelete.name}”?`} confirmLabel="Delete kit" isBusy={remove.isPending} onConfirm={confirmDelete} onCancel={() => setToDelete(null)}>
          <p>Only the kit goes: its uploads and generated images stay in your library.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** "Save the tray as a kit": the ready references in the tray, in their order, under a new name. */
function SaveKitForm({ tray, autoFocus }: { tray: ReferenceTray; autoFocus: boolean }) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const { create } = useKitMutations();
  const toast = useToast();
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const ready = tray.tiles.filter((t) => t.status === 'ready' && t.id);
  const pending = tray.tiles.length - ready.length;
  const canSave = ready.length > 0 && ready.length <= MAX_KIT_REFERENCES;

  // After the dialog has opened: showModal() focuses its first control, which would take the focus back.
  useEffect(() => {
    if (!autoFocus) return;
    const frame = requestAnimationFrame(() => inputRef.current?.focus());
    return () => cancelAnimationFrame(frame);
  }, [autoFocus]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = createKitSchema.safeParse({ name, references: ready.map((t) => t.id) });
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message);
      return;
    }
    setError(undefined);
    create.mutate(parsed.data, {
      onSuccess: (kit) => {
        setName('');
        toast.success(`Saved “${kit.name}”`, `${kit.references.length} ${kit.references.length === 1 ? 'reference' : 'references'}, in the tray’s order.`);
      },
      onError: (err) => setError(isApiError(err) ? (err.fieldMessage('name') ?? err.message) : describeError(err)),
    });
  };

  const hint =
    ready.length === 0
      ? 'Add references to the tray first; they are saved in the tray’s order.'
      : `Saves the ${ready.length === 1 ? 'reference' : `${ready.length} references`} in the tray, in order${pending > 0 ? ` (${pending} still uploading or failed ${pending === 1 ? 'is' : 'are'} left out)` : ''}.`;

  return (
    <form className="kit-save" onSubmit={onSubmit} noValidate>
      <label className="field__label" htmlFor={id}>
        Save the tray as a kit
      </label>
      <div className="kit-save__row">
        <input
          ref={inputRef}
          id={id}
          className="input"
          placeholder="e.g. Mara — character, Acme brand"
          maxLength={80}
          value={name}
          aria-invalid={Boolean(error) || undefined}
          aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
          onChange={(e) => {
            setName(e.target.value);
            setError(undefined);
          }}
        />
        <Button type="submit" variant="secondary" isBusy={create.isPending} disabled={!canSave}>
          Save kit
        </Button>
      </div>
      {error && (
        <p className="field__error" id={`${id}-error`}>
          {error}
        </p>
      )}
      <p className="field__hint" id={`${id}-hint`}>
        {hint}
      </p>
    </form>
  );
}

function RenameForm({ kit, isBusy, onSave, onCancel }: { kit: Kit; isBusy: boolean; onSave: (name: string, setError: (e: string) => void) => void; onCancel: () => void }) {
  const [name, setName] = useState(kit.name);
  const [error, setError] = useState<string>();
  const id = useId();
  return (
    <form
      className="kit-rename"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = kitNameSchema.safeParse(name);
        if (!parsed.success) return setError(parsed.error.issues[0]?.message);
        if (parsed.data === kit.name) return onCancel();
        onSave(parsed.data, setError);
      }}
    >
      <div className="kit-rename__row">
        <input
          id={id}
          className="input"
          aria-label={`New name for ${kit.name}`}
          aria-invalid={Boolean(error) || undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          maxLength={80}
          value={name}
          autoFocus
          onChange={(e) => {
            setName(e.target.value);
            setError(undefined);
          }}
          onKeyDown={(e) => {
            // Esc cancels the rename, not the whole library dialog.
            if (e.key === 'Escape') {
              e.preventDefault();
              e.stopPropagation();
              onCancel();
            }
          }}
        />
        <Button type="submit" size="sm" variant="primary" isBusy={isBusy}>
          Save
        </Button>
        <Button size="sm" variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
      </div>
      {error && (
        <p className="field__error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </form>
  );
}
