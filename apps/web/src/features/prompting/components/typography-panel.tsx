import { useId, useRef, useState } from 'react';
import { FONT_STYLE_PRESETS, MAX_TEXT_ELEMENTS, MAX_TEXT_LENGTH, PLACEMENT_PRESETS, TEXT_SIZES, TEXT_SIZE_LABELS, type TextSize } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { ChevronDownIcon, CloseIcon, PlusIcon } from '#/components/ui/icons';
import { newTextElement, type CompiledDraft, type TypographyItem } from '../prompt-draft';
import { ColorField } from './color-field';

interface TypographyPanelProps {
  items: TypographyItem[];
  errors: CompiledDraft['typographyErrors'];
  onChange: (items: TypographyItem[]) => void;
}

/**
 * The exact text to render, each element with its font style, size in the hierarchy, placement and
 * colour. Order matters: the first element is written first in the prompt.
 */
export function TypographyPanel({ items, errors, onChange }: TypographyPanelProps) {
  const ids = useId();
  const listRef = useRef<HTMLOListElement>(null);
  const [announcement, setAnnouncement] = useState('');

  const focusIn = (key: string, selector: string) =>
    requestAnimationFrame(() => {
      const item = listRef.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
      const target = item?.querySelector<HTMLElement>(selector);
      (target && !(target as HTMLButtonElement).disabled ? target : item?.querySelector<HTMLElement>('.type-item__text'))?.focus();
    });

  const update = (key: string, patch: Partial<TypographyItem>) => onChange(items.map((it) => (it.key === key ? { ...it, ...patch } : it)));
  const add = () => {
    const item = newTextElement(items.length);
    onChange([...items, item]);
    focusIn(item.key, '.type-item__text');
  };
  const remove = (index: number) => {
    const next = items.filter((_, i) => i !== index);
    onChange(next);
    setAnnouncement(`Text ${index + 1} removed`);
    const neighbour = next[index] ?? next[index - 1];
    if (neighbour) focusIn(neighbour.key, '.type-item__text');
    else requestAnimationFrame(() => document.getElementById(`${ids}-add`)?.focus());
  };
  const move = (index: number, to: number) => {
    if (to < 0 || to >= items.length) return;
    const next = items.slice();
    const [item] = next.splice(index, 1);
    next.splice(to, 0, item!);
    onChange(next);
    setAnnouncement(`Text ${index + 1} is now text ${to + 1}`);
    focusIn(item!.key, to < index ? '[data-action="up"]' : '[data-action="down"]');
  };

  return (
    <div className="type-panel">
      <datalist id={`${ids}-fonts`}>
        {FONT_STYLE_PRESETS.map((f) => (
          <option key={f} value={f} />
        ))}
      </datalist>
      <datalist id={`${ids}-placements`}>
        {PLACEMENT_PRESETS.map((p) => (
          <option key={p} value={p} />
        ))}
      </datalist>
      {items.length === 0 ? (
        <p className="prompting-empty">Letters rendered exactly as typed: a headline, a date, a price. Each text is quoted in the prompt with its font, size and place.</p>
      ) : (
        <ol className="type-list" ref={listRef}>
          {items.map((item, index) => {
            const e = errors[item.key] ?? {};
            const n = index + 1;
            return (
              <li key={item.key} data-key={item.key} className="type-item" role="group" aria-label={`Text ${n}`}>
                <div className="type-item__head">
                  <span className="type-item__index" aria-hidden="true">
                    {n}
                  </span>
                  <select
                    className="input type-item__size"
                    aria-label="Size"
                    value={item.size}
                    onChange={(ev) => update(item.key, { size: ev.target.value as TextSize })}
                  >
                    {TEXT_SIZES.map((s) => (
                      <option key={s} value={s}>
                        {TEXT_SIZE_LABELS[s]}
                      </option>
                    ))}
                  </select>
                  <span className="type-item__tools">
                    <IconButton label={`Move text ${n} up`} size="sm" data-action="up" disabled={index === 0} onClick={() => move(index, index - 1)}>
                      <ChevronDownIcon size={15} className="icon-flip" />
                    </IconButton>
                    <IconButton label={`Move text ${n} down`} size="sm" data-action="down" disabled={index === items.length - 1} onClick={() => move(index, index + 1)}>
                      <ChevronDownIcon size={15} />
                    </IconButton>
                    <IconButton label={`Remove text ${n}`} size="sm" onClick={() => remove(index)}>
                      <CloseIcon size={14} />
                    </IconButton>
                  </span>
                </div>
                <input
                  className={`input type-item__text type-item__text--${item.size}`}
                  aria-label="Exact text"
                  placeholder="Exact text, e.g. GRAND OPENING"
                  maxLength={MAX_TEXT_LENGTH}
                  value={item.text}
                  spellCheck={false}
                  aria-invalid={e.text ? true : undefined}
                  aria-describedby={e.text ? `${ids}-${item.key}-text` : undefined}
                  onChange={(ev) => update(item.key, { text: ev.target.value })}
                />
                {e.text && (
                  <p className="field__error" id={`${ids}-${item.key}-text`}>
                    {e.text}
                  </p>
                )}
                <div className="type-item__grid">
                  <label className="mini-field">
                    <span className="mini-field__label">Font style</span>
                    <input
                      className="input"
                      list={`${ids}-fonts`}
                      placeholder="bold sans-serif"
                      value={item.font_style}
                      aria-invalid={e.font_style ? true : undefined}
                      onChange={(ev) => update(item.key, { font_style: ev.target.value })}
                    />
                    {e.font_style && <span className="field__error">{e.font_style}</span>}
                  </label>
                  <label className="mini-field">
                    <span className="mini-field__label">Placement</span>
                    <input
                      className="input"
                      list={`${ids}-placements`}
                      placeholder="top center"
                      value={item.placement}
                      aria-invalid={e.placement ? true : undefined}
                      onChange={(ev) => update(item.key, { placement: ev.target.value })}
                    />
                    {e.placement && <span className="field__error">{e.placement}</span>}
                  </label>
                </div>
                {item.color === null ? (
                  <Button size="sm" variant="ghost" className="type-item__add-color" icon={<span className="swatch-dot swatch-dot--empty" />} onClick={() => { update(item.key, { color: '#ffffff' }); focusIn(item.key, '.color-field__hex'); }}>
                    Add colour
                  </Button>
                ) : (
                  <div className="type-item__color">
                    <ColorField label="Text colour" value={item.color} error={e.color} onChange={(color) => update(item.key, { color })} />
                    <IconButton label={`Remove the colour of text ${n}`} size="sm" onClick={() => { update(item.key, { color: null }); focusIn(item.key, '.type-item__add-color'); }}>
                      <CloseIcon size={13} />
                    </IconButton>
                  </div>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <div className="prompting-actions">
        <Button id={`${ids}-add`} size="sm" icon={<PlusIcon size={14} />} disabled={items.length >= MAX_TEXT_ELEMENTS} onClick={add}>
          Add text
        </Button>
        <span className="prompting-count">
          {items.length} / {MAX_TEXT_ELEMENTS}
        </span>
      </div>
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
    </div>
  );
}
