/**
 * Stripe's request encoding and error model for the fake Stripe server: bodies and query strings in
 * bracket syntax (`line_items[0][price]=…`, `expand[]=…`), decoded into nested params; strict
 * parameter checks that answer like the API does (`parameter_unknown`, `parameter_missing`, …).
 */

export type ParamValue = string | Params | ParamValue[];
export interface Params {
  [key: string]: ParamValue;
}

export interface StripeErrorBody {
  type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';
  code?: string;
  message: string;
  param?: string;
  doc_url?: string;
}

/**
 * An error answered as `{ error: {...} }`. `saved` marks errors raised while the endpoint was executing
 * (Stripe stores those for idempotent replay); validation errors are not stored (docs.stripe.com/idempotency).
 */
export class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  readonly saved: boolean;
  constructor(status: number, body: StripeErrorBody, saved = false) {
    super(body.message);
    this.status = status;
    this.body = body.code && !body.doc_url ? { ...body, doc_url: `https://stripe.com/docs/error-codes/${body.code.replace(/_/g, '-')}` } : body;
    this.saved = saved;
  }
}

export const invalid = (message: string, param?: string, code?: string): StripeApiError =>
  new StripeApiError(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) });

export const missingParam = (param: string): StripeApiError => invalid(`Missing required param: ${param}.`, param, 'parameter_missing');

/** A missing object: 404 with `param: 'id'` for the object in the URL, 400 naming the parameter otherwise. */
export const noSuch = (kind: string, id: string, param?: string): StripeApiError =>
  new StripeApiError(param ? 400 : 404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${kind}: '${id}'`, param: param ?? 'id' });

/** An error from a state check inside the endpoint (stored for idempotent replay like a success). */
export const stateError = (message: string, code?: string, param?: string): StripeApiError =>
  new StripeApiError(400, { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) }, true);

/** Decodes `a[b][0][c]=v&e[]=x` into nested params; `[n]` and `[]` make arrays. */
export function parseForm(raw: string): Params {
  const root: Params = {};
  for (const [fullKey, value] of new URLSearchParams(raw)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(fullKey);
    if (!match) throw invalid(`Invalid parameter name: ${fullKey}`);
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)];
    let node: Params | ParamValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      const nextIsArray = !last && (path[i + 1] === '' || /^\d+$/.test(path[i + 1]!));
      if (Array.isArray(node)) {
        const index = seg === '' ? node.length : Number(seg);
        if (!Number.isInteger(index)) throw invalid(`Invalid array index in ${fullKey}`);
        if (last) node[index] = value;
        else node = (node[index] ??= nextIsArray ? [] : {}) as Params | ParamValue[];
      } else {
        if (last) node[seg] = value;
        else {
          const existing: ParamValue | undefined = node[seg];
          if (typeof existing === 'string') throw invalid(`Invalid ${fullKey}: conflicting values`, fullKey);
          node = (node[seg] = existing ?? (nextIsArray ? [] : {})) as Params | ParamValue[];
        }
      }
    }
  }
  return compactArrays(root) as Params;
}

function compactArrays(v: ParamValue): ParamValue {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(compactArrays);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compactArrays(x)]));
}

/** Stable JSON for comparing an idempotent retry's params with the first request's. */
export function canonical(v: ParamValue | undefined): string {
  if (v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

/** Rejects keys Stripe does not know for this endpoint, with Stripe's message. */
export function checkKeys(params: Params, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw invalid(`Received unknown parameter: ${prefix ? `${prefix}[${key}]` : key}`, prefix ? `${prefix}[${key}]` : key, 'parameter_unknown');
  }
}

export function optString(params: Params, key: string, name = key): string | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`Invalid string: ${name}`, name, 'parameter_invalid_string');
  return v;
}

export function reqString(params: Params, key: string, name = key): string {
  const v = optString(params, key, name);
  if (v === undefined || v === '') throw missingParam(name);
  return v;
}

export function optInt(params: Params, key: string, name = key): number | undefined {
  const v = optString(params, key, name);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw invalid(`Invalid integer: ${v}`, name, 'parameter_invalid_integer');
  return Number(v);
}

export function optBool(params: Params, key: string, name = key): boolean | undefined {
  const v = optString(params, key, name);
  if (v === undefined || v === '') return undefined;
  if (v !== 'true' && v !== 'false') throw invalid(`Invalid boolean: ${v}`, name, 'parameter_invalid_boolean');
  return v === 'true';
}

export function optObject(params: Params, key: string, name = key): Params | undefined {
  const v = params[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'string' || Array.isArray(v)) throw invalid(`Invalid object`, name, 'parameter_invalid_object');
  return v;
}

export function optArray(params: Params, key: string, name = key): ParamValue[] | undefined {
  const v = params[key];
  if (v === undefined || v === '') return undefined;
  if (!Array.isArray(v)) throw invalid(`Invalid array`, name, 'parameter_invalid_array');
  return v;
}

/** `expand[]`: a list of dotted paths. */
export function expandParam(params: Params): string[] {
  const list = optArray(params, 'expand') ?? [];
  return list.map((x, i) => {
    if (typeof x !== 'string') throw invalid('Invalid array', `expand[${i}]`);
    return x;
  });
}

/**
 * Metadata per Stripe's limits (50 keys, key ≤40 chars, value ≤500 chars); an empty value unsets a
 * key when updating, and `metadata=` clears all.
 */
export function metadataParam(params: Params, key: string, current: Record<string, string> = {}, name = key): Record<string, string> | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (v === '') return {};
  if (typeof v === 'string' || Array.isArray(v)) throw invalid('Invalid object', name, 'parameter_invalid_object');
  const out: Record<string, string> = { ...current };
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw invalid(`Invalid value for metadata key ${k}`, `${name}[${k}]`);
    if (k.length > 40) throw invalid(`Metadata keys can have a maximum length of 40 characters.`, `${name}[${k}]`);
    if (value.length > 500) throw invalid(`Metadata values can have a maximum length of 500 characters.`, `${name}[${k}]`);
    if (value === '') delete out[k];
    else out[k] = value;
  }
  if (Object.keys(out).length > 50) throw invalid('Metadata can have a maximum of 50 keys.', name);
  return out;
}

/** `created=…` or `created[gte|gt|lte|lt]=…` as a predicate on unix seconds. */
export function createdFilter(params: Params): (created: number) => boolean {
  const v = params.created;
  if (v === undefined) return () => true;
  if (typeof v === 'string') {
    const n = optInt(params, 'created')!;
    return (c) => c === n;
  }
  if (Array.isArray(v)) throw invalid('Invalid created', 'created');
  checkKeys(v, ['gt', 'gte', 'lt', 'lte'], 'created');
  const b = { gt: optInt(v, 'gt', 'created[gt]'), gte: optInt(v, 'gte', 'created[gte]'), lt: optInt(v, 'lt', 'created[lt]'), lte: optInt(v, 'lte', 'created[lte]') };
  return (c) => (b.gt === undefined || c > b.gt) && (b.gte === undefined || c >= b.gte) && (b.lt === undefined || c < b.lt) && (b.lte === undefined || c <= b.lte);
}
