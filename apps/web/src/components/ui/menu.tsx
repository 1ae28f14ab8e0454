import { useId, useRef, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { placePopover } from './place-popover';
import './menu.css';

export interface MenuItem {
  key: string;
  label: ReactNode;
  icon?: ReactNode;
  hint?: ReactNode;
  /** A link item (e.g. a download); otherwise `onSelect` runs. */
  href?: string;
  download?: string | boolean;
  onSelect?: () => void;
  tone?: 'danger';
}

interface MenuProps {
  /** Renders the trigger; spread the props onto a button. */
  trigger: (props: {
    popoverTarget: string;
    'aria-haspopup': 'menu';
    'aria-controls': string;
    ref: RefObject<HTMLButtonElement | null>;
  }) => ReactNode;
  items: MenuItem[];
  label: string;
  /** Non-interactive content above the items (e.g. who is signed in). */
  header?: ReactNode;
  align?: 'start' | 'end';
}

/**
 * A dropdown menu built on the Popover API: top layer (works inside the modal detail dialog),
 * light dismiss and Esc for free. Positioned against its trigger when it opens.
 */
export function Menu({ trigger, items, label, header, align = 'end' }: MenuProps) {
  const id = useId();
  const triggerRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  const place = () => {
    if (menuRef.current && triggerRef.current) placePopover(menuRef.current, triggerRef.current, { align });
  };

  const focusItem = (delta: number | 'first' | 'last') => {
    const all = Array.from(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    if (all.length === 0) return;
    const current = all.indexOf(document.activeElement as HTMLElement);
    const next = delta === 'first' ? 0 : delta === 'last' ? all.length - 1 : (current + delta + all.length) % all.length;
    all[next]?.focus();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, number | 'first' | 'last'> = { ArrowDown: 1, ArrowUp: -1, Home: 'first', End: 'last' };
    const move = moves[event.key];
    if (move !== undefined) {
      event.preventDefault();
      focusItem(move);
    } else if (event.key === 'Tab') {
      menuRef.current?.hidePopover();
    }
  };

  const close = () => {
    menuRef.current?.hidePopover();
    triggerRef.current?.focus();
  };

  return (
    <>
      {trigger({ popoverTarget: id, 'aria-haspopup': 'menu', 'aria-controls': id, ref: triggerRef })}
      <div
        ref={menuRef}
        id={id}
        popover="auto"
        role="menu"
        aria-label={label}
        className="menu"
        onKeyDown={onKeyDown}
        onToggle={(event) => {
          if (event.newState === 'open') {
            place();
            focusItem('first');
          }
        }}
      >
        {header && (
          <div className="menu__header" role="presentation">
            {header}
          </div>
        )}
        {items.map((item) => {
          const content = (
            <>
              {item.icon && <span className="menu__icon">{item.icon}</span>}
              <span className="menu__label">{item.label}</span>
              {item.hint && <span className="menu__hint">{item.hint}</span>}
            </>
          );
          const className = ['menu__item', item.tone === 'danger' ? 'menu__item--danger' : ''].filter(Boolean).join(' ');
          return item.href ? (
            <a key={item.key} role="menuitem" tabIndex={-1} className={className} href={item.href} download={item.download} onClick={close}>
              {content}
            </a>
          ) : (
            <button
              key={item.key}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={className}
              onClick={() => {
                close();
                item.onSelect?.();
              }}
            >
              {content}
            </button>
          );
        })}
      </div>
    </>
  );
}
