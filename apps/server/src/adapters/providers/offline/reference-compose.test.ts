import { describe, expect, it } from 'vitest';
import { PREVIEW_MARK, previewMark } from './compose.ts';
import { parsePrompt } from './prompt.ts';
import { collageOverlaySvg, sceneFor, tintOverlaySvg } from './reference-compose.ts';
import { layoutReferences } from './reference-layout.ts';
import { GlyphDefs, renderLine } from './text-layout.ts';

/** The drawing commands for a line of text, as compose draws it (glyph ids do not depend on the GlyphDefs instance). */
const glyphRun = (text: string): string => {
  const svg = renderLine(text, 'regular', 0, 0, 10, '#ffffff', new GlyphDefs());
  return svg.slice(svg.indexOf('>') + 1);
};

describe('reference overlays', () => {
  it('always carry the preview mark', () => {
    const spec = parsePrompt('a poster "Hello"');
    for (const [width, height] of [
      [64, 64],
      [1344, 768],
      [2048, 2048],
    ] as const) {
      const canvas = { width, height, seed: 5 };
      const mark = previewMark(width, height, new GlyphDefs());
      expect(tintOverlaySvg(spec, canvas, sceneFor(spec, 5), true)).toContain(mark);
      expect(collageOverlaySvg(spec, canvas, layoutReferences([1, 1, 1], width, height, 5), false)).toContain(mark);
    }
    expect(PREVIEW_MARK).toBe('Atelier offline preview');
  });

  it('labels every collage panel "image N", and a single reference not at all', () => {
    const spec = parsePrompt('no text');
    const canvas = { width: 1024, height: 1024, seed: 9 };
    const svg = collageOverlaySvg(spec, canvas, layoutReferences(Array.from({ length: 10 }, () => 1), 1024, 1024, 9), false);
    for (let n = 1; n <= 10; n++) expect(svg).toContain(glyphRun(`image ${n}`));
    expect(svg).not.toContain(glyphRun('image 11'));
    expect(tintOverlaySvg(spec, canvas, sceneFor(spec, 9), false)).not.toContain(glyphRun('image 1'));
  });
});
