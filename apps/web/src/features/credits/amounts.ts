import { formatInteger } from '#/lib/format';

/** "+500" / "−12" (a real minus sign) and whether it adds or takes away, for the history's colours. */
export function signedCredits(value: number): { text: string; tone: 'plus' | 'minus' | 'none' } {
  if (value === 0) return { text: '0', tone: 'none' };
  return value > 0 ? { text: `+${formatInteger(value)}`, tone: 'plus' } : { text: `−${formatInteger(-value)}`, tone: 'minus' };
}
