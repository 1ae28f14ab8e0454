import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { Model } from '@atelier/contracts';
import { CheckIcon, ChevronDownIcon, CpuIcon } from '#/components/ui/icons';
import { placePopover } from '#/components/ui/place-popover';
import './model-picker.css';

export function formatPrice(model: Model): string {
  if (model.price_credits === 0) return 'Free';
  return `${model.price_credits} ${model.price_credits === 1 ? 'credit' : 'credits'}`;
}

interface ModelPickerProps {
  models: Model[];
  value: Model | undefined;
  onChange: (model: Model) => void;
  labelId: string;
  error?: string | undefined;
}

/** A select-only combobox (WAI-ARIA pattern) whose options show label, engine and price. */
export function ModelPicker({ models, value, onChange, labelId, error }: ModelPickerProps) {
  const id = useId();
  const listId = `${id}-list`;
  const buttonRef = useRef<HTMLButtonElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const [isOpen, setOpen] = useState(false);
  const [active, setActive] = useState(0);

  useEffect(() => {
    if (isOpen) document.getElementById(`${id}-opt-${active}`)?.scrollIntoView({ block: 'nearest' });
  }, [active, id, isOpen]);

  const open = () => {
    setActive(Math.max(0, models.findIndex((m) => m.id === value?.id)));
    listRef.current?.showPopover();
  };
  const close = () => listRef.current?.hidePopover();
  const choose = (index: number) => {
    const model = models[index];
    if (model) onChange(model);
    close();
    buttonRef.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const last = models.length - 1;
    if (!isOpen) {
      if (['ArrowDown', 'ArrowUp', 'Enter', ' '].includes(event.key)) {
        event.preventDefault();
        open();
      }
      return;
    }
    const moves: Record<string, () => number> = {
      ArrowDown: () => Math.min(last, active + 1),
      ArrowUp: () => Math.max(0, active - 1),
      Home: () => 0,
      End: () => last,
      PageDown: () => Math.min(last, active + 5),
      PageUp: () => Math.max(0, active - 5),
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      setActive(move());
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      choose(active);
    } else if (event.key === 'Tab') {
      close();
    }
  };

  return (
    <div className="model-picker">
      <button
        ref={buttonRef}
        type="button"
        role="combobox"
        className={`model-picker__button${error ? ' model-picker__button--invalid' : ''}`}
        aria-labelledby={`${labelId} ${id}-value`}
        aria-haspopup="listbox"
        aria-expanded={isOpen}
        aria-controls={listId}
        aria-activedescendant={isOpen ? `${id}-opt-${active}` : undefined}
        aria-invalid={error ? true : undefined}
        disabled={models.length === 0}
        // The native invoker: toggles on click, and is exempt from light dismiss (so a second click closes).
        popoverTarget={listId}
        onKeyDown={onKeyDown}
      >
        <span className="model-picker__glyph" aria-hidden="true">
          <CpuIcon size={18} />
        </span>
        <span className="model-picker__value" id={`${id}-value`}>
          <span className="model-picker__label">{value?.label ?? 'Choose a model'}</span>
          {value && (
            <span className="model-picker__meta">
              {value.engine_label} · {formatPrice(value)}
            </span>
          )}
        </span>
        <ChevronDownIcon size={16} className="model-picker__chevron" />
      </button>
      <div
        ref={listRef}
        id={listId}
        role="listbox"
        popover="auto"
        aria-labelledby={labelId}
        className="model-picker__list"
        onToggle={(event) => {
          const opening = event.newState === 'open';
          setOpen(opening);
          if (opening) setActive(Math.max(0, models.findIndex((m) => m.id === value?.id)));
          if (opening && buttonRef.current && listRef.current) placePopover(listRef.current, buttonRef.current, { matchWidth: true });
        }}
      >
        {models.map((model, index) => (
          <div
            key={model.id}
            id={`${id}-opt-${index}`}
            role="option"
            aria-selected={model.id === value?.id}
            className={`model-option${index === active ? ' model-option--active' : ''}`}
            onMouseEnter={() => setActive(index)}
            onClick={() => choose(index)}
          >
            <div className="model-option__head">
              <span className="model-option__label">{model.label}</span>
              <span className="model-option__price">{formatPrice(model)}</span>
              {model.id === value?.id && <CheckIcon size={15} className="model-option__check" />}
            </div>
            <p className="model-option__description">{model.description}</p>
            <div className="model-option__tags">
              <span className={`badge${model.is_preview_engine ? ' badge--warning' : ''}`}>{model.engine_label}</span>
              <span className="badge">up to {(model.max_pixels / 1_000_000).toFixed(1)} MP</span>
              {model.max_reference_images > 0 && (
                <span className="badge">
                  {model.max_reference_images} reference {model.max_reference_images === 1 ? 'image' : 'images'}
                </span>
              )}
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}
