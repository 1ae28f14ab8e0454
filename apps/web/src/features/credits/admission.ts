import { isApiError } from '#/lib/api-client';
import { formatCredits, formatInteger } from '#/lib/format';

/**
 * What the studio says when the server refuses to admit a generation: which limit, when it resets and
 * how to raise it. Pure, so the wording is tested; the toast and the generate panel render it.
 */
export interface AdmissionMessage {
  code: 'insufficient_credits' | 'concurrency_limit' | 'plan_limit' | 'rate_limited';
  title: string;
  description: string;
  /** Where more is to be had: the Billing page (credits, plans), with this label. */
  action: { label: string; to: '/billing' } | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** "45 seconds", "2 minutes", "1 hour 5 minutes". */
export function formatWait(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} ${s === 1 ? 'second' : 'seconds'}`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h} ${h === 1 ? 'hour' : 'hours'}${m ? ` ${m} ${m === 1 ? 'minute' : 'minutes'}` : ''}`;
}

export function describeAdmissionError(error: unknown, opts: { paymentsEnabled?: boolean } = {}): AdmissionMessage | null {
  if (!isApiError(error)) return null;
  const d = error.details ?? {};
  const canBuy = opts.paymentsEnabled ?? true;
  switch (error.code) {
    case 'insufficient_credits': {
      const required = num(d.required);
      const available = num(d.available);
      const what = required !== null && available !== null ? `This costs ${formatCredits(required)} and you have ${formatInteger(available)} available.` : error.message;
      return {
        code: 'insufficient_credits',
        title: 'Not enough credits',
        description: `${what} ${canBuy ? 'Buy a credit pack or subscribe to a plan, or wait for your monthly allowance.' : 'Your monthly free allowance tops it up; the operator can grant more.'}`,
        action: { label: canBuy ? 'Buy credits' : 'Billing & credits', to: '/billing' },
      };
    }
    case 'concurrency_limit': {
      const allowed = num(d.allowed);
      const active = num(d.active);
      const plan = str(d.plan);
      // An API key's own cap is raised by the operator, not by a plan.
      const isPlanLimit = d.limit !== 'api_key_max_concurrent';
      if (allowed === null || active === null) return { code: 'concurrency_limit', title: 'Too many generations at once', description: error.message, action: isPlanLimit ? { label: 'See plans', to: '/billing' } : null };
      const resets = str(d.resets) ?? 'when one of your generations finishes';
      return {
        code: 'concurrency_limit',
        title: 'Too many generations at once',
        description: `${plan ? `Your ${plan} plan` : 'Your plan'} runs ${formatInteger(allowed)} at once and ${formatInteger(active)} ${active === 1 ? 'is' : 'are'} queued or running. You can start more ${resets}${isPlanLimit ? ', or upgrade your plan to run more in parallel' : ''}.`,
        action: isPlanLimit ? { label: 'See plans', to: '/billing' } : null,
      };
    }
    case 'plan_limit': {
      const allowed = num(d.allowed);
      const requested = num(d.requested);
      const plan = str(d.plan);
      return {
        code: 'plan_limit',
        title: 'Larger than your plan allows',
        description:
          allowed !== null && requested !== null
            ? `${plan ? `Your ${plan} plan` : 'Your plan'} makes images up to ${formatInteger(allowed)} MP; this one is ${formatInteger(requested)} MP. Choose a smaller size, or upgrade your plan for larger images.`
            : error.message,
        action: { label: 'See plans', to: '/billing' },
      };
    }
    case 'rate_limited': {
      const retry = num(d.retry_after_seconds);
      const max = num(d.max);
      const windowSeconds = num(d.window_seconds);
      const what = str(d.limit) ?? 'requests';
      const raise = str(d.how_to_raise);
      if (retry === null) return { code: 'rate_limited', title: 'Slow down for a moment', description: error.message, action: null };
      const rule = max !== null && windowSeconds !== null ? `At most ${formatInteger(max)} ${what} per ${formatWait(windowSeconds).replace(/^1 /, '')}${d.per === 'ip' ? ' from one network address' : ''}. ` : '';
      return {
        code: 'rate_limited',
        title: 'Slow down for a moment',
        description: `${rule}You can try again in ${formatWait(retry)}${raise ? `; to raise the limit, ${raise}` : ''}.`,
        action: null,
      };
    }
    default:
      return null;
  }
}
