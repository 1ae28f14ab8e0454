import { useId, useRef, useState } from 'react';
import { HEX_COLOR, MAX_PALETTE_COLORS, nameColor } from '@atelier/contracts';
import { Button, IconButton } from '#/components/ui/button';
import { CloseIcon, PlusIcon } from '#/components/ui/icons';
import { newPaletteItem, type CompiledDraft, type PaletteItem } from '../prompt-draft';
import { ColorField } from './color-field';

interface PalettePanelProps {
  items: PaletteItem[];
  errors: CompiledDraft['paletteErrors'];
  onChange: (items: PaletteItem[]) => void;
}

/**
 * 1–5 exact colours. Bound to an object ("the vase") each is written as BFL recommends:
 * "the vase in color #02eb3c (bright green)"; unbound ones form the scene's palette.
 */
export function PalettePanel({ items, errors, onChange }: PalettePanelProps) {
  const ids = useId();
  const listRef = useRef<HTMLOListElement>(null);
  const [announcement, setAnnouncement] = useState('');
  const update = (key: string, patch: Partial<PaletteItem>) => onChange(items.map((it) => (it.key === key ? { ...it, ...patch } : it)));
  const focus = (selector: string) => requestAnimationFrame(() => listRef.current?.querySelector<HTMLElement>(selector)?.focus());

  const add = () => {
    const item = newPaletteItem(items);
    onChange([...items, item]);
    focus(`[data-key="${CSS.escape(item.key)}"] .color-field__hex`);
  };
  const remove = (index: number) => {
    const next = items.filter((_, i) => i !== index);
    onChange(next);
    setAnnouncement(`Colour ${index + 1} removed`);
    const neighbour = next[index] ?? next[index - 1];
    if (neighbour) focus(`[data-key="${CSS.escape(neighbour.key)}"] .color-field__hex`);
    else requestAnimationFrame(() => document.getElementById(`${ids}-add`)?.focus());
  };

  const valid = items.filter((c) => HEX_COLOR.test(c.hex.trim()));
  return (
    <div className="palette-panel">
      {valid.length > 0 ? (
        <div className="palette-strip" aria-hidden="true">
          {valid.map((c) => (
            <span key={c.key} className="palette-strip__swatch" style={{ background: c.hex.trim() }} title={`${c.hex} ${c.name || nameColor(c.hex)}`} />
          ))}
        </div>
      ) : (
        <p className="prompting-empty">Exact brand colours as hex, each tied to what it colours. Three to five work best.</p>
      )}
      {items.length > 0 && (
        <ol className="palette-list" ref={listRef}>
          {items.map((item, index) => {
            const e = errors[item.key] ?? {};
            const n = index + 1;
            const autoName = HEX_COLOR.test(item.hex.trim()) ? nameColor(item.hex.trim()) : 'name';
            return (
              <li key={item.key} data-key={item.key} className="palette-item" role="group" aria-label={`Colour ${n}`}>
                <div className="palette-item__row">
                  <ColorField label="Colour" value={item.hex} error={e.hex} onChange={(hex) => update(item.key, { hex })} />
                  <IconButton label={`Remove colour ${n}`} size="sm" className="palette-item__remove" onClick={() => remove(index)}>
                    <CloseIcon size={14} />
                  </IconButton>
                </div>
                <div className="palette-item__grid">
                  <label className="mini-field">
                    <span className="mini-field__label">Applies to</span>
                    <input
                      className="input"
                      placeholder="e.g. the vase"
                      value={item.object}
                      maxLength={120}
                      aria-invalid={e.object ? true : undefined}
                      onChange={(ev) => update(item.key, { object: ev.target.value })}
                    />
                    {e.object && <span className="field__error">{e.object}</span>}
                  </label>
                  <label className="mini-field">
                    <span className="mini-field__label">Name</span>
                    <input
                      className="input"
                      placeholder={autoName}
                      value={item.name}
                      maxLength={40}
                      aria-invalid={e.name ? true : undefined}
                      onChange={(ev) => update(item.key, { name: ev.target.value })}
                    />
                    {e.name && <span className="field__error">{e.name}</span>}
                  </label>
                </div>
              </li>
            );
          })}
        </ol>
      )}
      <div className="prompting-actions">
        <Button id={`${ids}-add`} size="sm" icon={<PlusIcon size={14} />} disabled={items.length >= MAX_PALETTE_COLORS} onClick={add}>
          Add colour
        </Button>
        <span className="prompting-count">
          {items.length} / {MAX_PALETTE_COLORS}
        </span>
      </div>
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
    </div>
  );
}
