import { useEffect, useRef, type ReactNode } from 'react';
import './modal.css';

interface ModalProps {
  onClose: () => void;
  children: ReactNode;
  /** id of the element naming the dialog (its heading). */
  labelledBy?: string;
  label?: string;
  className?: string;
  /** Close when the backdrop is clicked. */
  dismissOnBackdrop?: boolean;
  /** Where focus goes on close; defaults to the element that had it when the dialog opened. */
  restoreFocus?: () => HTMLElement | null | undefined;
}

/**
 * A native modal <dialog>: the browser provides the focus trap, inert background, top layer and Esc.
 * Esc arrives as a `cancel` event, which is turned into `onClose` so the owner decides what closing means
 * (for the image detail: navigating back to the grid).
 */
export function Modal({ onClose, children, labelledBy, label, className, dismissOnBackdrop = true, restoreFocus }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const restoreFocusRef = useRef(restoreFocus);
  restoreFocusRef.current = restoreFocus;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const previouslyFocused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const onCancel = (event: Event) => {
      event.preventDefault();
      onCloseRef.current();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      const target = restoreFocusRef.current?.() ?? previouslyFocused;
      if (target?.isConnected) target.focus({ preventScroll: target !== previouslyFocused });
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={['modal', className].filter(Boolean).join(' ')}
      aria-labelledby={labelledBy}
      aria-label={label}
      onMouseDown={(event) => {
        // Only a press that starts on the backdrop (the dialog element itself, outside its content) dismisses.
        if (dismissOnBackdrop && event.target === event.currentTarget) onCloseRef.current();
      }}
    >
      {children}
    </dialog>
  );
}
