import { useEffect, useRef, useState } from 'react';
import { CloseIcon } from '#/components/ui/icons';
import { SearchIcon } from '../icons';

const DEBOUNCE_MS = 300;

interface SearchFieldProps {
  /** The search in the URL. */
  value: string;
  /** Commits a search; `isRefinement` when it edits a search already in the URL (no new history entry). */
  onSearch: (q: string, isRefinement: boolean) => void;
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || target.closest('input, textarea, select') !== null);
}

/**
 * The prompt search: commits after a pause in typing, Esc clears it (a second Esc leaves the field),
 * and `/` anywhere in the studio jumps here. Back and Forward update the text.
 */
export function SearchField({ value, onSearch }: SearchFieldProps) {
  const [text, setText] = useState(value);
  const input = useRef<HTMLInputElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const committed = useRef(value);

  // The URL changed under us (Back, a link, "Clear filters"): show what it says.
  useEffect(() => {
    if (value !== committed.current) {
      clearTimeout(timer.current);
      committed.current = value;
      setText(value);
    }
  }, [value]);

  useEffect(() => () => clearTimeout(timer.current), []);

  const commit = (next: string) => {
    clearTimeout(timer.current);
    const q = next.trim();
    if (q === committed.current) return;
    const isRefinement = committed.current !== '' && q !== '';
    committed.current = q;
    onSearch(q, isRefinement);
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      if (document.querySelector('dialog[open], [popover]:not([popover="manual"]):popover-open')) return;
      event.preventDefault();
      input.current?.focus();
      input.current?.select();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="history-search">
      <SearchIcon size={16} className="history-search__icon" />
      <input
        ref={input}
        type="search"
        className="input history-search__input"
        placeholder="Search prompts"
        // Not named "…prompts": the generate panel's field is the one called "Prompt".
        aria-label="Search your images"
        aria-keyshortcuts="/"
        value={text}
        maxLength={200}
        autoComplete="off"
        spellCheck={false}
        enterKeyHint="search"
        onChange={(event) => {
          const next = event.target.value;
          setText(next);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => commit(next), DEBOUNCE_MS);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') commit(text);
          if (event.key === 'Escape') {
            // Handled here, so it neither leaves select mode nor reaches a dialog.
            event.preventDefault();
            event.stopPropagation();
            if (text !== '') {
              setText('');
              commit('');
            } else input.current?.blur();
          }
        }}
      />
      {text === '' ? (
        <kbd className="history-search__hint" aria-hidden="true">
          /
        </kbd>
      ) : (
        <button
          type="button"
          className="history-search__clear"
          aria-label="Clear the search"
          title="Clear the search (Esc)"
          onClick={() => {
            setText('');
            commit('');
            input.current?.focus();
          }}
        >
          <CloseIcon size={14} />
        </button>
      )}
    </div>
  );
}
