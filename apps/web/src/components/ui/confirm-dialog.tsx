import { useId, type ReactNode } from 'react';
import { Button } from './button';
import { Modal } from './modal';

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  isBusy?: boolean;
  tone?: 'danger' | 'primary';
}

export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel, isBusy = false, tone = 'danger' }: ConfirmDialogProps) {
  const titleId = useId();
  return (
    <Modal onClose={onCancel} labelledBy={titleId}>
      <form
        className="confirm"
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          onConfirm();
        }}
      >
        <h2 className="confirm__title" id={titleId}>
          {title}
        </h2>
        <div className="confirm__body">{children}</div>
        <div className="confirm__actions">
          {/* Focus starts on the safe choice, so a stray Enter never destroys anything. */}
          <Button onClick={onCancel} autoFocus>
            Cancel
          </Button>
          <Button type="submit" variant={tone} isBusy={isBusy}>
            {confirmLabel}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
