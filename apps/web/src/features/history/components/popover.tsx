import { useId, useRef, type ReactNode, type RefObject } from 'react';
import { placePopover } from '#/components/ui/place-popover';
import './popover.css';

interface PopoverProps {
  /** Renders the trigger; spread the props onto a button. */
  trigger: (props: { popoverTarget: string; 'aria-haspopup': 'dialog'; 'aria-controls': string; ref: RefObject<HTMLButtonElement | null> }) => ReactNode;
  /** Accessible name of the panel. */
  label: string;
  /** The content; `close` hides the panel and returns focus to the trigger. */
  children: (close: () => void) => ReactNode;
  align?: 'start' | 'end';
  className?: string;
}

/**
 * A small non-modal panel (filters, a date range, the collection list) on the Popover API, like the UI
 * kit's Menu: top layer, light dismiss and Esc for free, placed against its trigger when it opens.
 * Focus moves to the element marked `data-autofocus`, else the first control.
 */
export function Popover({ trigger, label, children, align = 'start', className }: PopoverProps) {
  const id = useId();
  const triggerRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);

  const close = () => {
    panelRef.current?.hidePopover();
    triggerRef.current?.focus();
  };

  return (
    <>
      {trigger({ popoverTarget: id, 'aria-haspopup': 'dialog', 'aria-controls': id, ref: triggerRef })}
      <div
        ref={panelRef}
        id={id}
        popover="auto"
        role="dialog"
        aria-label={label}
        className={['popover-panel', className].filter(Boolean).join(' ')}
        onToggle={(event) => {
          const panel = panelRef.current;
          if (event.newState !== 'open' || !panel || !triggerRef.current) return;
          placePopover(panel, triggerRef.current, { align });
          const target = panel.querySelector<HTMLElement>('[data-autofocus]') ?? panel.querySelector<HTMLElement>('button, input, select, a[href]');
          target?.focus();
        }}
      >
        {children(close)}
      </div>
    </>
  );
}
