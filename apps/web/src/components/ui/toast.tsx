import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { AlertIcon, CheckIcon, CloseIcon, InfoIcon } from './icons';
import './toast.css';

export type ToastTone = 'info' | 'success' | 'error';

interface Toast {
  id: number;
  tone: ToastTone;
  title: string;
  description?: string | undefined;
  /** One follow-up the message points to ("Buy credits"); the toast closes when it is chosen. */
  action?: { label: string; onSelect: () => void } | undefined;
}

interface ToastApi {
  show: (toast: Omit<Toast, 'id'>) => void;
  error: (title: string, description?: string) => void;
  success: (title: string, description?: string) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

const DURATION_MS: Record<ToastTone, number> = { info: 4_000, success: 3_000, error: 8_000 };

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const viewport = useRef<HTMLDivElement>(null);

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);

  const api = useMemo<ToastApi>(() => {
    const show = (toast: Omit<Toast, 'id'>) => {
      const id = nextId.current++;
      setToasts((all) => [...all.slice(-3), { ...toast, id }]);
    };
    return {
      show,
      error: (title, description) => show({ tone: 'error', title, description }),
      success: (title, description) => show({ tone: 'success', title, description }),
    };
  }, []);

  // The viewport is a manual popover, so it is in the top layer: toasts raised while a modal dialog is
  // open (the image detail) must show above it, which no z-index can achieve. Re-showing moves it to the top.
  useEffect(() => {
    const el = viewport.current;
    if (!el || typeof el.showPopover !== 'function') return;
    if (el.matches(':popover-open')) el.hidePopover();
    if (toasts.length > 0) el.showPopover();
  }, [toasts]);

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div ref={viewport} className="toasts" popover="manual" role="region" aria-label="Notifications">
        {toasts.map((toast) => (
          <ToastItem key={toast.id} toast={toast} onDismiss={dismiss} />
        ))}
      </div>
    </ToastContext.Provider>
  );
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: (id: number) => void }) {
  const [isPaused, setPaused] = useState(false);
  useEffect(() => {
    if (isPaused) return;
    // A toast with something to do stays longer, and holds while the pointer or focus is on it.
    const timer = setTimeout(() => onDismiss(toast.id), DURATION_MS[toast.tone] * (toast.action ? 2 : 1));
    return () => clearTimeout(timer);
  }, [isPaused, onDismiss, toast.id, toast.tone, toast.action]);

  const Icon = toast.tone === 'error' ? AlertIcon : toast.tone === 'success' ? CheckIcon : InfoIcon;
  return (
    <div
      className={`toast toast--${toast.tone}`}
      role={toast.tone === 'error' ? 'alert' : 'status'}
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onFocus={() => setPaused(true)}
      onBlur={() => setPaused(false)}
    >
      <Icon size={18} className="toast__icon" />
      <div className="toast__text">
        <p className="toast__title">{toast.title}</p>
        {toast.description && <p className="toast__description">{toast.description}</p>}
        {toast.action && (
          <button
            type="button"
            className="toast__action"
            onClick={() => {
              toast.action?.onSelect();
              onDismiss(toast.id);
            }}
          >
            {toast.action.label}
          </button>
        )}
      </div>
      <button type="button" className="toast__close" aria-label="Dismiss notification" onClick={() => onDismiss(toast.id)}>
        <CloseIcon size={14} />
      </button>
    </div>
  );
}

export function useToast(): ToastApi {
  const api = useContext(ToastContext);
  if (!api) throw new Error('useToast needs a <ToastProvider>');
  return api;
}
