import { MAX_PROMPT_LENGTH } from '@atelier/contracts';
import { IconButton } from '#/components/ui/button';
import { CopyIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { copyText } from '#/lib/clipboard';
import { formatInteger } from '#/lib/format';

interface PromptPreviewProps {
  prompt: string;
  isJson: boolean;
  /** Why there is nothing to show (yet). */
  emptyMessage: string;
}

/** The exact string that goes out as `prompt`, so nothing the builder adds is a surprise. */
export function PromptPreview({ prompt, isJson, emptyMessage }: PromptPreviewProps) {
  const toast = useToast();
  const isOver = prompt.length > MAX_PROMPT_LENGTH;
  const copy = async () => {
    try {
      await copyText(prompt);
      toast.success('Copied what the model receives');
    } catch (error) {
      toast.error('Could not copy', error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <div className="prompt-preview">
      <div className="prompt-preview__head">
        <span className="prompt-preview__title">
          Prompt sent to the model
          {isJson && <span className="badge prompt-preview__badge">JSON</span>}
        </span>
        <IconButton label="Copy what the model receives" size="sm" disabled={!prompt} onClick={() => void copy()}>
          <CopyIcon size={14} />
        </IconButton>
      </div>
      {/* A scrollable region must be reachable by keyboard; named without the word "prompt" on purpose, so
          the prompt textarea stays the one control labelled "Prompt". */}
      <pre className={`prompt-preview__body${isJson ? ' prompt-preview__body--json' : ''}`} tabIndex={0} aria-label="Sent to the model" data-testid="compiled-prompt">
        {prompt || <span className="prompt-preview__empty">{emptyMessage}</span>}
      </pre>
      <span className={`prompt-counter prompt-preview__counter${isOver ? ' prompt-counter--over' : ''}`}>
        {formatInteger(prompt.length)} / {formatInteger(MAX_PROMPT_LENGTH)} characters
      </span>
    </div>
  );
}
