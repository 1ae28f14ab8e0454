import { useState } from 'react';
import { OUTPUT_FORMATS, type Generation, type Image, type OutputFormat } from '@atelier/contracts';
import { ChevronDownIcon, DownloadIcon } from '#/components/ui/icons';
import { Segmented } from '#/components/ui/segmented';
import { downloadFileName, downloadUrl } from '#/features/generations/api';
import { Popover } from './popover';
import './download-menu.css';

const FORMAT_LABEL: Record<OutputFormat, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' };
const WIDTHS = [2048, 1024, 512] as const;

export interface DownloadSize {
  /** null: the original pixels. */
  width: number | null;
  height: number;
  label: string;
}

/** Original, then each standard width below it (the server never enlarges, so larger ones are left out). */
export function downloadSizes(image: Pick<Image, 'width' | 'height'>): DownloadSize[] {
  return [
    { width: null, height: image.height, label: 'Original' },
    ...WIDTHS.filter((w) => w < image.width).map((w) => ({ width: w, height: Math.max(1, Math.round((image.height * w) / image.width)), label: `${w} px wide` })),
  ];
}

/**
 * The detail's download choices: a format (the stored one, or converted by the server) and a size. Each
 * size is a plain download link, so the browser's own download handling applies.
 */
export function DownloadMenu({ generation: g, image }: { generation: Generation; image: Image }) {
  const [format, setFormat] = useState<OutputFormat>(image.format);
  const isOriginalFormat = format === image.format;

  return (
    <Popover
      label="Download options"
      align="end"
      className="download-menu"
      trigger={(props) => (
        <button {...props} type="button" className="btn btn--primary btn--md btn--icon split-button__more" aria-label="Download in another format or size" title="Download as PNG, JPEG or WebP, at a smaller size">
          <ChevronDownIcon size={16} />
        </button>
      )}
    >
      {(close) => (
        <div className="download-menu__body">
          <p className="download-menu__title" id={`${g.id}-dl-format`}>
            Format
          </p>
          <Segmented
            label="Format"
            labelledBy={`${g.id}-dl-format`}
            value={format}
            onChange={setFormat}
            options={OUTPUT_FORMATS.map((f) => ({ value: f, label: FORMAT_LABEL[f], title: f === image.format ? 'As stored' : 'Converted by the server' }))}
          />
          <p className="download-menu__title">Size</p>
          <ul className="download-menu__sizes">
            {downloadSizes(image).map((size, i) => {
              const isAsStored = isOriginalFormat && size.width === null;
              return (
                <li key={size.label}>
                  <a
                    className="download-menu__size"
                    href={isAsStored ? downloadUrl(image.url) : downloadUrl(image.url, format, size.width ?? undefined)}
                    download={downloadFileName(g, format, size.width ?? undefined)}
                    onClick={close}
                    data-autofocus={i === 0 || undefined}
                  >
                    <DownloadIcon size={15} />
                    <span className="download-menu__size-label">{size.label}</span>
                    <span className="download-menu__size-dims">
                      {size.width ?? image.width} × {size.height} · {FORMAT_LABEL[format]}
                    </span>
                  </a>
                </li>
              );
            })}
          </ul>
          {!isOriginalFormat && <p className="download-menu__note">Converted from {FORMAT_LABEL[image.format]} by the server.</p>}
        </div>
      )}
    </Popover>
  );
}
