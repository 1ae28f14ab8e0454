import { describe, expect, it } from 'vitest';
import { extractQuotations, parsePrompt } from './prompt.ts';

describe('quotations in a plain prompt', () => {
  it('finds straight, curly and guillemet double quotes, in order and verbatim', () => {
    expect(extractQuotations('A sign saying "OPEN  late" above “Café — 24/7” and «Bienvenue»')).toEqual(['OPEN  late', 'Café — 24/7', 'Bienvenue']);
  });

  it('takes single quotes only when they clearly quote', () => {
    expect(extractQuotations("the cat's toy and the students' books")).toEqual([]);
    expect(extractQuotations("a banner reading 'Don't stop' in bold")).toEqual(["Don't stop"]);
    expect(extractQuotations('a mug printed with ‘good morning’.')).toEqual(['good morning']);
    expect(extractQuotations("it's the '90s vibe")).toEqual([]);
  });

  it('does not split a double quotation at an apostrophe inside it', () => {
    expect(extractQuotations('poster: "It\'s 5 o\'clock somewhere"')).toEqual(["It's 5 o'clock somewhere"]);
  });

  it('ignores empty quotes', () => {
    expect(extractQuotations('an empty "" label and “ ”')).toEqual([]);
  });
});

describe('parsePrompt', () => {
  it('collects #RRGGBB colours, lower-cased and without duplicates', () => {
    const spec = parsePrompt('vase in #02EB3C (green) on #ffffff, more #02eb3c; not #12345 nor #1234567');
    expect(spec.colors).toEqual(['#02eb3c', '#ffffff']);
  });

  it('places text at the top or bottom when the prompt says so', () => {
    expect(parsePrompt('"SALE" at the top').layout).toBe('top');
    expect(parsePrompt('"SALE" along the bottom').layout).toBe('bottom');
    expect(parsePrompt('"SALE"').layout).toBe('centered');
  });

  it('reads a structured JSON prompt', () => {
    const spec = parsePrompt(JSON.stringify({ text: ['Spring', '20% off'], palette: ['#00A060', '#ffeeaa'], layout: 'bottom', background: '#101010' }));
    expect(spec).toEqual({ texts: ['Spring', '20% off'], colors: ['#00a060', '#ffeeaa'], background: '#101010', layout: 'bottom' });
  });

  it("accepts BFL's color_palette key and quotations inside descriptions", () => {
    const spec = parsePrompt(JSON.stringify({ scene: 'a shop sign reading "OPEN"', color_palette: ['#FF5500 (orange)'], layout: 'center' }));
    expect(spec).toMatchObject({ texts: ['OPEN'], colors: ['#ff5500'], layout: 'centered' });
  });

  it('takes an explicit text field verbatim, quotes and all', () => {
    expect(parsePrompt('{"text": "Say \\"hi\\""}').texts).toEqual(['Say "hi"']);
  });

  it('falls back to plain text when the JSON is malformed', () => {
    const spec = parsePrompt('{"text": "oops", "palette": ["#FF0000"]');
    expect(spec.texts).toEqual(['text', 'oops', 'palette', '#FF0000']);
    expect(spec.colors).toEqual(['#ff0000']);
  });
});
