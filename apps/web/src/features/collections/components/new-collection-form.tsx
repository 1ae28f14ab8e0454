import { useId, useState } from 'react';
import type { Collection } from '@atelier/contracts';
import { Button } from '#/components/ui/button';
import { PlusIcon } from '#/components/ui/icons';
import { describeError, isApiError } from '#/lib/api-client';
import { useCreateCollection } from '../hooks/use-collections';

interface NewCollectionFormProps {
  onCreated: (collection: Collection) => void;
  /** The submit button's label ("Create", "Create and add"). */
  submitLabel?: string;
  autoFocus?: boolean;
}

/** A name field and a button; a duplicate name is explained next to the field. */
export function NewCollectionForm({ onCreated, submitLabel = 'Create', autoFocus = false }: NewCollectionFormProps) {
  const create = useCreateCollection();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const submit = () => {
    const trimmed = name.trim();
    if (!trimmed) {
      setError('Give the collection a name.');
      return;
    }
    create.mutate(trimmed, {
      onSuccess: (collection) => {
        setName('');
        setError(null);
        onCreated(collection);
      },
      onError: (e) => setError(isApiError(e) && e.status === 409 ? `You already have a collection called “${trimmed}”.` : describeError(e)),
    });
  };

  return (
    <form
      className="new-collection"
      onSubmit={(event) => {
        event.preventDefault();
        event.stopPropagation();
        submit();
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        New collection name
      </label>
      <div className="new-collection__row">
        <input
          id={id}
          className="input new-collection__input"
          placeholder="New collection…"
          value={name}
          maxLength={80}
          autoComplete="off"
          data-autofocus={autoFocus || undefined}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(event) => {
            setName(event.target.value);
            setError(null);
          }}
        />
        <Button type="submit" size="md" icon={<PlusIcon size={15} />} isBusy={create.isPending} disabled={!name.trim()}>
          {submitLabel}
        </Button>
      </div>
      {error && (
        <p className="field__error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
