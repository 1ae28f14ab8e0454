import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.ts';

describe('password policy', () => {
  it('refuses common and breached-looking passwords whatever their case, with a reason', () => {
    expect(passwordProblem('password1')).toMatch(/common or breached/);
    expect(passwordProblem('Qwertyuiop')).toMatch(/common or breached/);
    expect(passwordProblem('aaaaaaaaaaaa')).toMatch(/common or breached/);
  });
  it('has length rules and no composition rules', () => {
    expect(passwordProblem('short')).toMatch(/at least 8/);
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most 1024/);
    expect(passwordProblem('correct horse battery staple')).toBeNull();
    expect(passwordProblem('lowercase only words here')).toBeNull();
  });
});
