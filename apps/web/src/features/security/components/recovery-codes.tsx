import { Button } from '#/components/ui/button';
import { CheckIcon, CopyIcon, DownloadIcon } from '#/components/ui/icons';
import { useToast } from '#/components/ui/toast';
import { copyText } from '#/lib/clipboard';
import { useState } from 'react';

/** Recovery codes, shown once: each signs in once when the authenticator app is not at hand. */
export function RecoveryCodes({ codes }: { codes: string[] }) {
  const toast = useToast();
  const [isCopied, setCopied] = useState(false);
  const text = `Atelier recovery codes (each works once)\n\n${codes.join('\n')}\n`;
  const copy = async () => {
    try {
      await copyText(text);
      setCopied(true);
    } catch (error) {
      toast.error('Could not copy', error instanceof Error ? error.message : undefined);
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: 'atelier-recovery-codes.txt' });
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <div className="recovery-codes">
      <ol className="recovery-codes__list" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="recovery-codes__actions">
        <Button size="sm" icon={isCopied ? <CheckIcon size={16} /> : <CopyIcon size={16} />} onClick={() => void copy()}>
          {isCopied ? 'Copied' : 'Copy'}
        </Button>
        <Button size="sm" icon={<DownloadIcon size={16} />} onClick={download}>
          Download .txt
        </Button>
      </div>
    </div>
  );
}
