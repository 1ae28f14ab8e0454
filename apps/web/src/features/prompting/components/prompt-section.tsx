import { useState, type ReactNode } from 'react';
import { ChevronDownIcon } from '#/components/ui/icons';

interface PromptSectionProps {
  title: string;
  /** Short state shown on the closed section ("2 texts", "3 colours"). */
  summary?: ReactNode;
  /** Shown next to the title when something inside needs attention. */
  hasProblem?: boolean;
  defaultOpen: boolean;
  children: ReactNode;
}

/** A collapsible part of the generate panel (native <details>: keyboard and screen-reader friendly). */
export function PromptSection({ title, summary, hasProblem = false, defaultOpen, children }: PromptSectionProps) {
  const [isOpen, setOpen] = useState(defaultOpen);
  return (
    <details className={`prompt-section${hasProblem ? ' prompt-section--problem' : ''}`} open={isOpen} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary className="prompt-section__summary">
        <ChevronDownIcon size={15} className="prompt-section__chevron" />
        <span className="prompt-section__title">{title}</span>
        {hasProblem && (
          <span className="prompt-section__dot" role="img" aria-label="needs attention" />
        )}
        {summary && <span className="prompt-section__meta">{summary}</span>}
      </summary>
      <div className="prompt-section__body">{children}</div>
    </details>
  );
}
