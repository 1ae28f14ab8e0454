// One solver thread of the sign-in CAPTCHA: altcha-lib's worker protocol (the messages solveChallengeWorkers
// sends) around its Web Crypto SHA-256 key derivation. Bundled by Vite as its own same-origin file, so the
// strict CSP (script-src 'self', no eval) allows it.
import { handler } from 'altcha-lib/workers/shared';
import { deriveKey } from 'altcha-lib/algorithms/web/sha';

handler({ deriveKey });
