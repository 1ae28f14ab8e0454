import { MAX_PALETTE_COLORS, MAX_TEXT_ELEMENTS } from '@atelier/contracts';
import type { CompiledDraft, PaletteItem, PromptDraft, TypographyItem } from '../prompt-draft';
import { PalettePanel } from './palette-panel';
import { PromptPreview } from './prompt-preview';
import { PromptSection } from './prompt-section';
import { TypographyPanel } from './typography-panel';
import './prompting.css';

interface PromptBuilderProps {
  draft: PromptDraft;
  compiled: CompiledDraft;
  onChange: (patch: Partial<Pick<PromptDraft, 'typography' | 'palette'>>) => void;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Typography and palette, as collapsible sections, and the exact prompt they build. */
export function PromptBuilder({ draft, compiled, onChange }: PromptBuilderProps) {
  const typographyProblem = Object.keys(compiled.typographyErrors).length > 0;
  const paletteProblem = Object.keys(compiled.paletteErrors).length > 0;
  return (
    <div className="prompt-builder">
      <PromptSection
        title="Typography"
        defaultOpen={draft.typography.length > 0}
        hasProblem={typographyProblem}
        summary={draft.typography.length > 0 ? plural(draft.typography.length, 'text', 'texts') : `up to ${MAX_TEXT_ELEMENTS} texts`}
      >
        <TypographyPanel items={draft.typography} errors={compiled.typographyErrors} onChange={(typography: TypographyItem[]) => onChange({ typography })} />
      </PromptSection>
      <PromptSection
        title="Colour palette"
        defaultOpen={draft.palette.length > 0}
        hasProblem={paletteProblem}
        summary={
          draft.palette.length > 0 ? (
            <span className="prompt-section__swatches" role="img" aria-label={plural(draft.palette.length, 'colour', 'colours')}>
              {draft.palette.map((c) => (
                <span key={c.key} className="swatch-dot" style={{ background: c.hex }} />
              ))}
            </span>
          ) : (
            `1–${MAX_PALETTE_COLORS} hex colours`
          )
        }
      >
        <PalettePanel items={draft.palette} errors={compiled.paletteErrors} onChange={(palette: PaletteItem[]) => onChange({ palette })} />
      </PromptSection>
      {compiled.isBuilt && (
        <PromptPreview
          prompt={compiled.prompt}
          isJson={draft.promptMode === 'structured'}
          emptyMessage={compiled.structuredErrors.length > 0 ? 'Fix the structured prompt to see what will be sent.' : 'Nothing yet: describe the scene or add text.'}
        />
      )}
    </div>
  );
}
