import type { MailMessage } from './mailer.ts';

/** Plain text first (what many clients show), with a minimal HTML twin. Everything interpolated is escaped. */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function actionMail(to: string, subject: string, intro: string, action: string, url: string, outro: string): MailMessage {
  const text = `${intro}\n\n${action}:\n${url}\n\n${outro}\n\n— Atelier\n`;
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1c1b1f;max-width:32rem">
<p>${escapeHtml(intro)}</p>
<p><a href="${escapeHtml(url)}" style="display:inline-block;padding:.6em 1.2em;background:#4f46e5;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(action)}</a></p>
<p style="font-size:.9em;color:#555">Or open this link: <br>${escapeHtml(url)}</p>
<p style="font-size:.9em;color:#555">${escapeHtml(outro)}</p>
<p>— Atelier</p></body></html>`;
  return { to, subject, text, html };
}

export const verifyEmailMail = (to: string, url: string) =>
  actionMail(to, 'Confirm your e-mail address', 'Welcome to Atelier. Please confirm that this is your e-mail address.', 'Confirm my e-mail address', url, 'The link works once and expires in 24 hours. If you did not sign up, ignore this message.');

export const resetPasswordMail = (to: string, url: string) =>
  actionMail(to, 'Reset your password', 'Someone (hopefully you) asked to reset the password of your Atelier account.', 'Choose a new password', url, 'The link works once and expires in 1 hour. Setting a new password signs out your other sessions. If you did not ask for this, ignore this message: your password stays as it is.');

export const magicLinkMail = (to: string, url: string) =>
  actionMail(to, 'Your sign-in link', 'Here is the link you asked for to sign in to Atelier.', 'Sign in to Atelier', url, 'The link works once and expires in 10 minutes. If you did not ask for it, ignore this message.');

export const paymentFailedMail = (to: string, planName: string, url: string) =>
  actionMail(
    to,
    `Your ${planName} payment did not go through`,
    `We could not take the payment for your Atelier ${planName} plan. Your plan stays active while the payment is retried, but it ends if the retries fail too.`,
    'Update your payment method',
    url,
    'The link opens your billing page in Atelier; the payment method itself is managed by Stripe.',
  );
