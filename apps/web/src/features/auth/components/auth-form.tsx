import { useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { z } from 'zod';
import { Button } from '#/components/ui/button';
import { Field } from '#/components/ui/field';
import { AlertIcon } from '#/components/ui/icons';
import { describeError, isApiError } from '#/lib/api-client';
import { useQuery } from '@tanstack/react-query';
import { fieldForAuthError, meQuery, signIn, signUp } from '../api';
import { solveSignInCaptcha } from '../captcha';
import { nextSignInStep, sameEmail, type SignInTries } from '../sign-in-flow';
import { authProvidersQuery, describeAuthRedirectError, profileQuery } from '../identity-api';
import { safeNextPath } from '../hooks/use-session';
import { MagicLinkForm } from './magic-link-form';
import { SocialButtons } from './social-buttons';
import './auth.css';

const MIN_PASSWORD = 8;

const signInSchema = z.object({
  email: z.email('enter a valid email address'),
  password: z.string().min(1, 'enter your password'),
});

const signUpSchema = z.object({
  name: z.string().trim().min(1, 'enter your name').max(100),
  email: z.email('enter a valid email address'),
  password: z.string().min(MIN_PASSWORD, `use at least ${MIN_PASSWORD} characters`).max(1024, 'use at most 1024 characters'),
  ageConfirmed: z.literal(true, 'confirm your age to create an account'),
});

type Mode = 'sign-in' | 'sign-up';
type Values = { name: string; email: string; password: string; ageConfirmed: boolean };
type Errors = Partial<Record<keyof Values | 'form', string>>;
/** What the form is doing by itself between the click and the answer (announced to screen readers). */
type Status = { kind: 'checking' } | { kind: 'waiting'; seconds: number } | null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function AuthForm({ mode }: { mode: Mode }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [params] = useSearchParams();
  const next = safeNextPath(params.get('next'));
  const [values, setValues] = useState<Values>({ name: '', email: '', password: '', ageConfirmed: false });
  const redirectError = params.get('error');
  const [errors, setErrors] = useState<Errors>(redirectError ? { form: describeAuthRedirectError(redirectError) } : {});
  const [isMagicLink, setMagicLink] = useState(false);
  const providers = useQuery(authProvidersQuery).data;
  const minAge = providers?.min_age ?? 13;
  const [isBusy, setBusy] = useState(false);
  const [isPasswordShown, setPasswordShown] = useState(false);
  const [status, setStatus] = useState<Status>(null);
  // The email the server last asked a CAPTCHA for: further attempts with it solve one before they are sent.
  const captchaEmail = useRef<string | null>(null);
  const isSignUp = mode === 'sign-up';

  /** Password sign-in that solves the CAPTCHA and sits out short delays by itself (sign-in-flow.ts). */
  const signInWithChecks = async (credentials: { email: string; password: string }) => {
    const tries: SignInTries = { solves: 0, waits: 0 };
    let captcha: string | undefined;
    const solve = async () => {
      tries.solves += 1;
      setStatus({ kind: 'checking' });
      captcha = await solveSignInCaptcha();
    };
    try {
      if (sameEmail(captchaEmail.current, credentials.email)) await solve();
      for (;;) {
        try {
          return await signIn(credentials, captcha);
        } catch (error) {
          const step = nextSignInStep(error, tries);
          if (step.kind === 'fail') throw error;
          if (step.kind === 'solve') {
            captchaEmail.current = credentials.email;
            await solve();
          } else {
            tries.waits += 1;
            setStatus({ kind: 'waiting', seconds: step.seconds });
            await sleep(step.seconds * 1000);
          }
        }
      }
    } finally {
      setStatus(null);
    }
  };

  const set = (key: keyof Values) => (event: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [key]: event.target.value }));
    if (errors[key] || errors.form) setErrors((e) => ({ ...e, [key]: undefined, form: undefined }));
  };
  const setAge = (event: { target: { checked: boolean } }) => {
    setValues((v) => ({ ...v, ageConfirmed: event.target.checked }));
    if (errors.ageConfirmed) setErrors((e) => ({ ...e, ageConfirmed: undefined }));
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = isSignUp ? signUpSchema.safeParse(values) : signInSchema.safeParse(values);
    if (!parsed.success) {
      const next: Errors = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as keyof Values] ??= issue.message;
      setErrors(next);
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      if (isSignUp) await signUp(parsed.data as Values);
      else {
        const result = await signInWithChecks({ email: values.email, password: values.password });
        // Two-factor accounts: the password was right; the code comes next, on its own page.
        if (result.twoFactorRedirect === true) {
          await navigate(`/sign-in/two-factor?next=${encodeURIComponent(next)}`, { replace: true });
          return;
        }
      }
      // The profile (age gate, verification banner) belongs to whoever was signed in before: drop it.
      client.removeQueries({ queryKey: profileQuery.queryKey });
      const me = await client.fetchQuery({ ...meQuery, staleTime: 0 });
      if (!me) {
        setErrors({ form: 'You were signed in, but the browser did not keep the session cookie. If Atelier runs behind a proxy, check that it is served over HTTPS or that secure cookies are off.' });
        return;
      }
      await navigate(next, { replace: true });
    } catch (error) {
      const field = isApiError(error) ? fieldForAuthError(error.code) : null;
      if (field) setErrors({ [field]: error instanceof Error ? error.message : undefined });
      else if (isApiError(error) && error.code === 'INVALID_EMAIL_OR_PASSWORD') setErrors({ form: 'That email and password don’t match an account.' });
      else setErrors({ form: describeError(error) });
    } finally {
      setBusy(false);
    }
  };

  const formError = errors.form && (
    <div className="auth-form__error" role="alert">
      <AlertIcon size={16} />
      <p>{errors.form}</p>
    </div>
  );
  if (isMagicLink) {
    return (
      <div className="auth-form">
        {formError}
        <MagicLinkForm next={next} initialEmail={values.email} onBack={() => setMagicLink(false)} />
      </div>
    );
  }

  return (
    <form className="auth-form" onSubmit={(e) => void onSubmit(e)} noValidate>
      {formError}
      {providers && providers.social.length > 0 && <SocialButtons providers={providers.social} next={next} />}
      {isSignUp && (
        <Field label="Name" error={errors.name}>
          {({ id, describedBy, invalid }) => (
            <input id={id} className="input" autoComplete="name" value={values.name} onChange={set('name')} aria-describedby={describedBy} aria-invalid={invalid || undefined} autoFocus />
          )}
        </Field>
      )}
      <Field label="Email" error={errors.email}>
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            className="input"
            type="email"
            autoComplete={isSignUp ? 'email' : 'username'}
            inputMode="email"
            spellCheck={false}
            value={values.email}
            onChange={set('email')}
            aria-describedby={describedBy}
            aria-invalid={invalid || undefined}
            autoFocus={!isSignUp}
          />
        )}
      </Field>
      <Field
        label="Password"
        error={errors.password}
        hint={isSignUp ? `At least ${MIN_PASSWORD} characters.` : undefined}
        aside={
          <button type="button" className="auth-form__reveal" onClick={() => setPasswordShown((s) => !s)} aria-pressed={isPasswordShown}>
            {isPasswordShown ? 'Hide' : 'Show'}
          </button>
        }
      >
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            className="input"
            type={isPasswordShown ? 'text' : 'password'}
            maxLength={1024}
            autoComplete={isSignUp ? 'new-password' : 'current-password'}
            value={values.password}
            onChange={set('password')}
            aria-describedby={describedBy}
            aria-invalid={invalid || undefined}
          />
        )}
      </Field>
      {isSignUp ? (
        <div className="auth-form__check">
          <label>
            <input type="checkbox" checked={values.ageConfirmed} onChange={setAge} aria-invalid={errors.ageConfirmed ? true : undefined} aria-describedby={errors.ageConfirmed ? 'age-error' : undefined} />
            <span>I am at least {minAge} years old</span>
          </label>
          {errors.ageConfirmed && (
            <p className="field__error" id="age-error">
              {errors.ageConfirmed}
            </p>
          )}
        </div>
      ) : (
        <p className="auth-form__forgot">
          <Link to="/forgot-password">Forgot password?</Link>
        </p>
      )}
      {!isSignUp && (
        <div className="auth-form__status" role="status" aria-live="polite">
          {status && <span className="spinner" aria-hidden="true" />}
          {status?.kind === 'checking' && (
            <p>
              Checking you’re not a robot…
              <span className="auth-form__status-hint">A small puzzle your browser solves on this device. No tracking, nothing to click.</span>
            </p>
          )}
          {status?.kind === 'waiting' && <p>Too many attempts. Trying again in {status.seconds} s…</p>}
        </div>
      )}
      <Button type="submit" variant="primary" size="lg" isBusy={isBusy} className="auth-form__submit">
        {isSignUp ? 'Create account' : 'Sign in'}
      </Button>
      {!isSignUp && providers?.magic_link && (
        <Button variant="ghost" onClick={() => setMagicLink(true)} className="auth-form__alt">
          Email me a sign-in link instead
        </Button>
      )}
      <p className="auth-form__switch">
        {isSignUp ? 'Already have an account? ' : 'New to Atelier? '}
        <Link to={{ pathname: isSignUp ? '/sign-in' : '/sign-up', search: params.toString() ? `?${params}` : '' }}>{isSignUp ? 'Sign in' : 'Create an account'}</Link>
      </p>
    </form>
  );
}
