import fs from 'node:fs';
import path from 'node:path';

/**
 * SEC-2 / ASVS 6.2: length only (8 to 1024 characters, checked by better-auth), no composition rules,
 * and no password from a bundled list of common passwords — the same check offline, with no call to a
 * breach service. The list (common-passwords.txt) holds the 8+ character entries of
 * @zxcvbn-ts/language-common's `passwords-common`, regenerated with:
 *   node -e "import('@zxcvbn-ts/language-common').then(m => console.log(m.dictionary['passwords-common'].filter(p => p.length >= 8).join('\n')))"
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(
    fs
      .readFileSync(path.join(import.meta.dirname, 'common-passwords.txt'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#')),
  );
  return common;
}

/** Why a password is refused, in words for the person choosing it; null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;
  const lowered = password.toLowerCase();
  if (commonPasswords().has(lowered) || /^(.)\1+$/.test(password)) {
    return 'This password appears in lists of common or breached passwords. Choose another one — a few unrelated words make a strong one.';
  }
  return null;
}
