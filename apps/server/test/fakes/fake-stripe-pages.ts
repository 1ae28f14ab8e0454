import type Stripe from 'stripe';
import { formatAmount } from './fake-stripe-billing.ts';
import { productName } from './fake-stripe-objects.ts';
import type { Store } from './fake-stripe-store.ts';

/**
 * The pages Stripe hosts, as plain server-rendered HTML (no JavaScript) that a browser test can click
 * through: Checkout, the Customer Portal, the hosted invoice page and its PDF.
 */

export const MERCHANT = 'Atelier';

export interface Page {
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export interface PageActions {
  pay(sessionId: string, method: 'card' | 'bank_debit', email: string | undefined): Promise<void>;
  cancelAtPeriodEnd(subscriptionId: string): Promise<void>;
  renew(subscriptionId: string): Promise<void>;
  payInvoice(invoiceId: string): Promise<void>;
  refreshSession(sessionId: string): void;
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const date = (s: number): string => new Date(s * 1000).toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

function html(title: string, body: string, status = 200): Page {
  return {
    status, contentType: 'text/html; charset=utf-8',
    body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}.test{background:#ffde92;padding:.2rem .5rem;border-radius:4px;font-size:.8rem}
.total{font-size:2rem;font-weight:600}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.4rem 0;border-bottom:1px solid #e3e8ee}
button{background:#635bff;color:#fff;border:0;border-radius:6px;padding:.7rem 1.4rem;font-size:1rem;cursor:pointer}fieldset{border:1px solid #e3e8ee;border-radius:6px;margin:1rem 0}
label{display:block;margin:.3rem 0}.notice{padding:1rem;border-radius:6px;background:#f6f8fa}</style></head>
<body><p><span class="test">TEST MODE</span> ${escape(MERCHANT)}</p>
${body}
</body></html>`,
  };
}

const redirect = (location: string): Page => ({ status: 303, contentType: 'text/plain; charset=utf-8', body: `See ${location}`, headers: { location } });

export async function handlePage(store: Store, actions: PageActions, method: string, path: string, form: URLSearchParams): Promise<Page | undefined> {
  let m = /^\/checkout\/pay\/([^/]+)$/.exec(path);
  if (m) return checkoutPage(store, actions, method, decodeURIComponent(m[1]!), form);
  m = /^\/portal\/([^/]+)(?:\/(cancel|renew))?$/.exec(path);
  if (m) return portalPage(store, actions, method, decodeURIComponent(m[1]!), m[2] as 'cancel' | 'renew' | undefined, form);
  m = /^\/i\/([^/]+)(?:\/(pdf|pay))?$/.exec(path);
  if (m) return invoicePage(store, actions, method, decodeURIComponent(m[1]!), m[2] as 'pdf' | 'pay' | undefined);
  return undefined;
}

async function checkoutPage(store: Store, actions: PageActions, method: string, id: string, form: URLSearchParams): Promise<Page> {
  const session = store.get('checkout_session', id);
  if (!session) return html('Checkout', '<h1>Something went wrong</h1><p class="notice">The page you were looking for could not be found.</p>', 404);
  actions.refreshSession(id);
  if (session.status === 'expired') return html('Checkout', '<h1>This Checkout Session has expired</h1><p class="notice">This checkout session is no longer active. Please return to the merchant and try again.</p>', 410);
  if (session.status === 'complete') {
    const back = session.success_url ? `<p><a href="${escape(session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id))}">Return to ${escape(MERCHANT)}</a></p>` : '';
    return html('Checkout', `<h1>This Checkout Session is already complete</h1><p class="notice">Your payment for this order has already been received.</p>${back}`, method === 'POST' ? 409 : 200);
  }
  if (method === 'POST') {
    const choice = form.get('payment_method') ?? 'card';
    if (choice !== 'card' && !(choice === 'bank_debit' && session.mode === 'payment')) return html('Checkout', '<h1>Unsupported payment method</h1>', 400);
    await actions.pay(id, choice, form.get('email') || undefined);
    if (!session.success_url) return html('Checkout', `<h1>Thanks for your ${session.mode === 'subscription' ? 'subscription' : 'payment'}</h1><p class="notice">A receipt has been sent to your email.</p>`);
    return redirect(session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id));
  }
  const items = store.sessions.get(id)?.lineItems ?? [];
  const currency = session.currency ?? 'usd';
  const recurring = items.find((li) => li.price?.recurring)?.price?.recurring;
  const per = recurring ? ` <small>per ${recurring.interval}</small>` : '';
  const email = session.customer_email ?? (session.customer ? store.get('customer', String(session.customer))?.email : null) ?? 'jenny.rosen@example.com';
  const rows = items.map((li) => `<tr><td>${escape(li.description ?? '')}${(li.quantity ?? 1) > 1 ? ` × ${li.quantity ?? 1}` : ''}</td><td>${escape(formatAmount(li.amount_total, li.currency))}</td></tr>`).join('');
  const methods = session.mode === 'payment'
    ? `<fieldset><legend>Payment method</legend><label><input type="radio" name="payment_method" value="card" checked> Card •••• 4242</label>
<label><input type="radio" name="payment_method" value="bank_debit"> Bank debit (confirms later)</label></fieldset>`
    : '<fieldset><legend>Payment method</legend><label><input type="radio" name="payment_method" value="card" checked> Card •••• 4242</label></fieldset>';
  const cancel = session.cancel_url ? `<p><a href="${escape(session.cancel_url)}">Cancel</a></p>` : '';
  return html(`${MERCHANT} – Checkout`, `<h1>${session.mode === 'subscription' ? 'Subscribe to' : 'Pay'} ${escape(MERCHANT)}</h1>
<p class="total" data-testid="amount">${escape(formatAmount(session.amount_total ?? 0, currency))}${per}</p>
<table><tbody>${rows}</tbody></table>
<form method="post" action="/checkout/pay/${escape(id)}">
<label>Email <input type="email" name="email" value="${escape(email)}" required></label>
${methods}
<button type="submit">Pay</button>
</form>
${cancel}`);
}

async function portalPage(store: Store, actions: PageActions, method: string, id: string, action: 'cancel' | 'renew' | undefined, form: URLSearchParams): Promise<Page> {
  const portal = store.get('billing_portal_session', id);
  if (!portal) return html('Billing', '<h1>This link has expired</h1>', 404);
  const subs = store.all('subscription').filter((s) => s.customer === portal.customer && s.status !== 'canceled' && s.status !== 'incomplete_expired');
  if (method === 'POST') {
    const subId = form.get('subscription') ?? '';
    if (!subs.some((s) => s.id === subId) || !action) return html('Billing', '<h1>Subscription not found</h1>', 404);
    if (action === 'cancel') await actions.cancelAtPeriodEnd(subId);
    else await actions.renew(subId);
    return redirect(`/portal/${id}`);
  }
  const customer = store.get('customer', portal.customer);
  const subsHtml = subs.length === 0 ? '<p>No active subscription.</p>' : subs.map((s) => {
    const item = s.items.data[0]!;
    const price = `${formatAmount((item.price.unit_amount ?? 0) * (item.quantity ?? 1), item.price.currency)} per ${item.price.recurring?.interval ?? 'month'}`;
    const when = s.cancel_at_period_end ? `Cancels on ${date(item.current_period_end)}` : `Renews on ${date(item.current_period_end)}`;
    const button = s.cancel_at_period_end
      ? `<form method="post" action="/portal/${escape(id)}/renew"><input type="hidden" name="subscription" value="${escape(s.id)}"><button type="submit">Renew subscription</button></form>`
      : `<form method="post" action="/portal/${escape(id)}/cancel"><input type="hidden" name="subscription" value="${escape(s.id)}"><button type="submit">Cancel subscription</button></form>`;
    return `<section data-subscription="${escape(s.id)}"><h3>${escape(productName(store, item.price))}</h3><p>${escape(price)}</p><p>Status: <strong>${escape(s.status)}</strong></p><p>${escape(when)}</p>${button}</section>`;
  }).join('');
  const invoices = store.all('invoice').filter((i) => i.customer === portal.customer && i.status !== 'draft');
  const invoiceRows = invoices.map((i) => `<tr><td>${escape(date(i.created))}</td><td>${escape(formatAmount(i.total, i.currency))}</td><td>${escape(i.status ?? '')}</td>
<td>${i.hosted_invoice_url ? `<a href="${escape(i.hosted_invoice_url)}">View invoice</a>` : ''}</td><td>${i.invoice_pdf ? `<a href="${escape(i.invoice_pdf)}">Download PDF</a>` : ''}</td></tr>`).join('');
  const back = portal.return_url ? `<p><a href="${escape(portal.return_url)}">Return to ${escape(MERCHANT)}</a></p>` : '';
  return html(`${MERCHANT} – Billing`, `${back}<h1>Billing</h1><p>${escape(customer?.email ?? '')}</p>
<h2>Current subscription</h2>${subsHtml}
<h2>Invoice history</h2>${invoiceRows ? `<table><thead><tr><th>Date</th><th>Amount</th><th>Status</th><th></th><th></th></tr></thead><tbody>${invoiceRows}</tbody></table>` : '<p>No invoices yet.</p>'}`);
}

async function invoicePage(store: Store, actions: PageActions, method: string, token: string, action: 'pdf' | 'pay' | undefined): Promise<Page> {
  const invoiceId = store.invoiceTokens.get(token);
  const invoice = invoiceId ? store.get('invoice', invoiceId) : undefined;
  if (!invoice) return html('Invoice', '<h1>Invoice not found</h1>', 404);
  if (action === 'pay') {
    if (method !== 'POST') return html('Invoice', '<h1>Method not allowed</h1>', 405);
    if (invoice.status === 'open') await actions.payInvoice(invoice.id);
    return redirect(`/i/${token}`);
  }
  if (action === 'pdf') return { status: 200, contentType: 'application/pdf', body: invoicePdf(invoice), headers: { 'content-disposition': `inline; filename="Invoice-${invoice.number ?? invoice.id}.pdf"` } };
  const rows = invoice.lines.data.map((l) => `<tr><td>${escape(l.description ?? '')}<br><small>${escape(date(l.period.start))} – ${escape(date(l.period.end))}</small></td><td>${escape(formatAmount(l.amount, l.currency))}</td></tr>`).join('');
  const paidAt = invoice.status_transitions.paid_at;
  const status = invoice.status === 'paid' && paidAt ? `Paid ${date(paidAt)}` : invoice.status === 'open' ? `Due ${date(invoice.created)}` : (invoice.status ?? '');
  const pay = invoice.status === 'open' ? `<form method="post" action="/i/${escape(token)}/pay"><button type="submit">Pay ${escape(formatAmount(invoice.amount_remaining, invoice.currency))}</button></form>` : '';
  return html(`Invoice ${invoice.number ?? ''}`, `<h1>${invoice.status === 'paid' ? 'Receipt' : 'Invoice'} from ${escape(MERCHANT)}</h1>
<p class="total">${escape(formatAmount(invoice.total, invoice.currency))}</p><p><strong>${escape(status)}</strong></p>
<p>Invoice number ${escape(invoice.number ?? '')}<br>Billed to ${escape(invoice.customer_email ?? '')}</p>
<table><tbody>${rows}<tr><th>Total</th><th>${escape(formatAmount(invoice.total, invoice.currency))}</th></tr></tbody></table>
${pay}<p><a href="/i/${escape(token)}/pdf">Download invoice</a></p>`);
}

/** A one-page PDF (Helvetica, ASCII text) with the invoice's lines — enough for a browser or pdf reader to open. */
function invoicePdf(invoice: Stripe.Invoice): Buffer {
  const money = (amount: number) => formatAmount(amount, invoice.currency, 'code');
  const lines = [
    `${MERCHANT} - ${invoice.status === 'paid' ? 'Receipt' : 'Invoice'} ${invoice.number ?? invoice.id}`,
    `Billed to: ${invoice.customer_email ?? ''}`,
    `Date: ${date(invoice.created)}`,
    '',
    ...invoice.lines.data.map((l) => `${(l.description ?? '').replace('×', 'x')}: ${money(l.amount)}`),
    '',
    `Total: ${money(invoice.total)}`,
    `Amount paid: ${money(invoice.amount_paid)}`,
    `Status: ${invoice.status ?? ''}`,
    '(Generated by the fake Stripe server for tests.)',
  ].map((s) => s.replace(/[^\x20-\x7e]/g, '?').replace(/[\\()]/g, (c) => `\\${c}`));
  const content = `BT /F1 12 Tf 72 720 Td 18 TL ${lines.map((l) => `(${l}) Tj T*`).join(' ')} ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
