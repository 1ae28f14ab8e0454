import { describe, expect, it } from 'vitest';
import { MAX_PROMPT_LENGTH, createGenerationSchema } from './generations.ts';
import {
  MAX_TEXT_ELEMENTS,
  compilePrompt,
  compileStructuredPrompt,
  nameColor,
  paletteSchema,
  parseStructuredPrompt,
  promptLengthProblem,
  quoteExact,
  structuredToText,
  typographySchema,
  type TextElement,
} from './prompting.ts';

const headline: TextElement = { text: 'GRAND OPENING — 12.05', font_style: 'bold sans-serif', size: 'headline', placement: 'top center', color: '#E11D48' };
const caption: TextElement = { text: 'Doors open at 10', font_style: 'classic serif', size: 'caption', placement: 'bottom right' };

describe('nameColor', () => {
  it.each([
    ['#02eb3c', 'bright green'],
    ['#ff0000', 'bright red'],
    ['#2255cc', 'blue'],
    ['#ffffff', 'white'],
    ['#000000', 'black'],
    ['#808080', 'gray'],
    ['#8b4513', 'brown'],
    ['#008080', 'teal'],
    ['#ffc0cb', 'light pink'],
    ['#1e293b', 'dark blue'],
  ])('%s is %s', (hex, name) => {
    expect(nameColor(hex)).toBe(name);
    expect(nameColor(hex.toUpperCase())).toBe(name);
  });
});

describe('compilePrompt', () => {
  it('returns the description untouched when there is no typography or palette', () => {
    expect(compilePrompt({ text: '  a cat on a mat  ' })).toBe('  a cat on a mat  ');
  });

  it('puts the text elements first, quoted exactly, with style, size, placement and colour, then the description', () => {
    const prompt = compilePrompt({ text: 'A flower shop storefront at dawn', typography: [headline, caption] });
    expect(prompt).toBe(
      'The text "GRAND OPENING — 12.05" appears as a large headline in bold sans-serif, at the top center, in color #e11d48 (bright red). ' +
        'The text "Doors open at 10" appears as a small caption in classic serif, at the bottom right. ' +
        'A flower shop storefront at dawn.',
    );
    expect(prompt.indexOf('"GRAND OPENING — 12.05"')).toBeLessThan(prompt.indexOf('"Doors open at 10"'));
  });

  it('binds palette colours to their objects with hex and name, and lists unbound ones', () => {
    const prompt = compilePrompt({
      text: 'A still life.',
      palette: [
        { hex: '#02EB3C', object: 'the vase' },
        { hex: '#ffcc00', name: 'sunflower', object: 'the tablecloth' },
        { hex: '#1e293b' },
      ],
    });
    expect(prompt).toBe('A still life. The vase in color #02eb3c (bright green), the tablecloth in color #ffcc00 (sunflower). Color palette: #1e293b (dark blue).');
  });

  it('keeps text with double quotes verbatim between typographic quotes', () => {
    const el: TextElement = { ...caption, text: 'Say "cheese"' };
    expect(quoteExact('Say "cheese"')).toBe('“Say "cheese"”');
    expect(compilePrompt({ text: '', typography: [el] })).toContain('“Say "cheese"”');
  });

  it('fits in a generation request with the longest typography and palette the schemas allow', () => {
    const typography = Array.from({ length: MAX_TEXT_ELEMENTS }, (_, i) => ({ ...headline, text: `${i}`.padEnd(200, 'x'), font_style: 'f'.repeat(80), placement: 'p'.repeat(80) }));
    expect(typographySchema.safeParse(typography).success).toBe(true);
    const prompt = compilePrompt({ text: 'a poster', typography });
    expect(prompt.length).toBeLessThan(5_000);
    expect(createGenerationSchema.safeParse({ model: 'offline', prompt }).success).toBe(true);
  });
});

describe('schemas', () => {
  it('refuse blank text, unknown sizes, bad colours and a sixth palette colour', () => {
    const result = typographySchema.safeParse([{ ...headline, text: '   ', size: 'huge', color: '#12345' }]);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['0.color', '0.size', '0.text']);
    expect(result.error!.issues.find((i) => i.path[1] === 'color')!.message).toBe('"#12345" is not a hex colour: use #RRGGBB, e.g. #02eb3c');
    expect(paletteSchema.safeParse(Array.from({ length: 6 }, () => ({ hex: '#000000' }))).success).toBe(false);
    expect(typographySchema.safeParse(Array.from({ length: MAX_TEXT_ELEMENTS + 1 }, () => headline)).success).toBe(false);
  });
});

describe('parseStructuredPrompt', () => {
  it('accepts BFL’s documented schema', () => {
    const json = JSON.stringify({
      scene: 'A flower shop at dawn',
      subjects: [{ description: 'a ceramic vase', position: 'center', action: 'catching the light' }],
      style: 'editorial photography',
      color_palette: ['#02eb3c', '#FFCC00'],
      lighting: 'soft window light',
      mood: 'calm',
      background: 'pale plaster wall',
      composition: 'rule of thirds',
      camera: { angle: 'eye level', lens: '50mm', depth_of_field: 'shallow' },
    });
    const result = parseStructuredPrompt(json);
    expect(result).toMatchObject({ ok: true, value: { scene: 'A flower shop at dawn', camera: { lens: '50mm' } } });
  });

  it('reports syntax errors, unknown fields, bad colours and missing descriptions with their paths', () => {
    const syntax = parseStructuredPrompt('{ "scene": "x", }');
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(syntax.errors[0]).toMatchObject({ path: '', message: expect.stringMatching(/^Not valid JSON: /) });

    const result = parseStructuredPrompt(JSON.stringify({ scene: 'x', colour: 'red', color_palette: ['#02eb3c', 'green'], subjects: [{ position: 'left' }], camera: { iso: 100 } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = Object.fromEntries(result.errors.map((e) => [e.path, e.message]));
    expect(byPath).toEqual({
      colour: expect.stringContaining('"colour" is not a field here; use scene, subjects'),
      'color_palette[1]': '"green" is not a hex colour: use #RRGGBB, e.g. #02eb3c',
      'subjects[0].description': 'describe the subject: add "description"',
      'camera.iso': '"iso" is not a field here; use angle, lens, depth_of_field',
    });

    expect(parseStructuredPrompt('["scene"]')).toEqual({ ok: false, errors: [{ path: '', message: expect.stringContaining('one JSON object') }] });
    expect(parseStructuredPrompt('{ "scene": 5 }')).toEqual({ ok: false, errors: [{ path: 'scene', message: 'scene must be text (in double quotes)' }] });
  });
});

describe('compileStructuredPrompt', () => {
  it('sends valid JSON: typography first with exact quoted text, then BFL’s fields with the palette merged', () => {
    const json = compileStructuredPrompt(
      { scene: 'A flower shop at dawn', subjects: [{ description: 'a vase', position: '' }], style: '', color_palette: ['#02EB3C'], camera: { angle: '', lens: '' } },
      { typography: [headline, { ...caption, text: 'Say "cheese"' }], palette: [{ hex: '#02eb3c', object: 'the vase' }, { hex: '#ffcc00' }] },
    );
    const value = JSON.parse(json) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['typography', 'scene', 'subjects', 'color_palette', 'color_usage']);
    expect(value.typography).toEqual([
      { text: '"GRAND OPENING — 12.05"', font_style: 'bold sans-serif', size: 'large headline', placement: 'at the top center', color: '#e11d48 (bright red)' },
      { text: '“Say "cheese"”', font_style: 'classic serif', size: 'small caption', placement: 'at the bottom right' },
    ]);
    expect(value.subjects).toEqual([{ description: 'a vase' }]);
    expect(value.color_palette).toEqual(['#02eb3c', '#ffcc00']);
    expect(value.color_usage).toEqual(['the vase in color #02eb3c (bright green)']);
    // The exact text appears in the raw prompt between (escaped) quotes.
    expect(json).toContain('\\"GRAND OPENING — 12.05\\"');
    expect(json).toContain('“Say \\"cheese\\"”');
  });

  it('round-trips through the JSON view when there is no typography or palette', () => {
    const structured = { scene: 'A lighthouse', lighting: 'storm light' };
    const json = compileStructuredPrompt(structured);
    expect(parseStructuredPrompt(json)).toEqual({ ok: true, value: structured });
  });
});

describe('structuredToText and length', () => {
  it('flattens a structured prompt to prose', () => {
    expect(structuredToText({ scene: 'A lighthouse on a cliff', subjects: [{ description: 'a keeper', action: 'waving' }], lighting: 'storm light', camera: { lens: '35mm' } })).toBe(
      'A lighthouse on a cliff. a keeper, waving. Lighting: storm light. Camera: 35mm.',
    );
  });

  it('reports empty and over-long prompts', () => {
    expect(promptLengthProblem('  ')).toBe('the prompt must not be empty');
    expect(promptLengthProblem('x'.repeat(MAX_PROMPT_LENGTH))).toBeUndefined();
    expect(promptLengthProblem('x'.repeat(MAX_PROMPT_LENGTH + 5))).toBe(`the prompt is 5 characters over the limit of ${MAX_PROMPT_LENGTH}`);
  });
});
