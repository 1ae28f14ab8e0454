import { describe, expect, it } from 'vitest';
import type { Generation } from '@atelier/contracts';
import { NO_FILTERS, couldMatch, dateBounds, filtersKey, filtersToApiParams, parseFilters } from './filters';

const parse = (query: string) => parseFilters(new URLSearchParams(query));
const COLLECTION = '01a201d1-66ae-72b1-8c18-c1810dbd8690';

describe('history filters in the URL', () => {
  it('reads what it writes, in one canonical order (the cache key)', () => {
    const f = parse(`workflow=upscale&q=+red+fox+&favorite=true&collection=${COLLECTION.toUpperCase()}&model=offline&date=7d`);
    expect(f).toEqual({ ...NO_FILTERS, q: 'red fox', workflow: 'upscale', favorite: true, collection: COLLECTION, model: 'offline', date: '7d' });
    expect(filtersKey(f)).toBe(`q=red+fox&favorite=true&collection=${COLLECTION}&model=offline&workflow=upscale&date=7d`);
    expect(parse(filtersKey(f))).toEqual(f);
    expect(filtersKey(NO_FILTERS)).toBe('');
  });

  it('drops what is malformed instead of sending it to fail', () => {
    expect(parse('workflow=paint&collection=nope&date=yesterday&from=2026-13-45&favorite=yes')).toEqual(NO_FILTERS);
  });

  it('puts a reversed custom range right, and lets it win over a preset', () => {
    expect(parse('from=2026-03-20&to=2026-03-01&date=today')).toMatchObject({ from: '2026-03-01', to: '2026-03-20', date: null });
  });
});

describe('dates are the user’s own days', () => {
  const now = new Date(2026, 2, 15, 18, 30); // 15 March, local time

  it('turns presets into a start instant at local midnight', () => {
    expect(dateBounds({ ...NO_FILTERS, date: 'today' }, now)).toEqual({ start: new Date(2026, 2, 15), end: null });
    expect(dateBounds({ ...NO_FILTERS, date: '7d' }, now).start).toEqual(new Date(2026, 2, 9));
    expect(dateBounds({ ...NO_FILTERS, date: '30d' }, now).start).toEqual(new Date(2026, 1, 14));
  });

  it('includes the whole last day of a custom range', () => {
    const f = { ...NO_FILTERS, from: '2026-03-01', to: '2026-03-03' };
    expect(dateBounds(f, now)).toEqual({ start: new Date(2026, 2, 1), end: new Date(2026, 2, 4) });
    const params = filtersToApiParams(f, now);
    expect(params.get('from')).toBe(new Date(2026, 2, 1).toISOString());
    expect(params.get('to')).toBe(new Date(2026, 2, 4).toISOString());
  });
});

describe('couldMatch', () => {
  const g = { model: 'offline', workflow: 'text-to-image', favorite: false, collection_ids: [] as string[], created_at: new Date(2026, 2, 15, 12).toISOString() } as Generation;
  const now = new Date(2026, 2, 15, 18);

  it('rules a generation out on what the client knows exactly', () => {
    expect(couldMatch({ ...NO_FILTERS, favorite: true }, g, now)).toBe(false);
    expect(couldMatch({ ...NO_FILTERS, collection: COLLECTION }, g, now)).toBe(false);
    expect(couldMatch({ ...NO_FILTERS, model: 'flux-2-pro' }, g, now)).toBe(false);
    expect(couldMatch({ ...NO_FILTERS, workflow: 'upscale' }, g, now)).toBe(false);
    expect(couldMatch({ ...NO_FILTERS, from: '2026-03-16' }, g, now)).toBe(false);
  });

  it('leaves the prompt search to the server', () => {
    expect(couldMatch({ ...NO_FILTERS, q: 'anything at all', date: 'today', model: 'offline' }, g, now)).toBe(true);
  });
});
