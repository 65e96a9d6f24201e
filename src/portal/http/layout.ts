/**
 * The page shell every portal page shares (pure): `lang`, viewport, the
 * stylesheet link, a skip link, the branded header (organisation name,
 * logo when it is an https URL), the main content and the footer (support
 * contact, footer text). No inline styles or scripts anywhere; the only
 * scripts are same-origin modules a page names in `scripts` (the passkey
 * pages).
 */
import { escapeHtml as e, logoUrl, type PortalBranding, sanitizeLine } from '../notification.js';
import { type PortalLocale, type PortalStrings, strings } from './strings.js';

export interface Brand {
  readonly organisation: string;
  readonly logo: string | undefined;
  readonly support: string | undefined;
  readonly footer: readonly string[];
}

export interface Shell {
  readonly lang: PortalLocale;
  readonly s: PortalStrings;
  readonly brand: Brand;
  /** `/static/portal.css?v=<version>` */
  readonly stylesheetHref: string;
}

export function brandFrom(b: PortalBranding): Brand {
  const footer = (b.footer ?? '')
    .split(/\r\n|\r|\n/)
    .map((l) => sanitizeLine(l, 1000))
    .filter((l) => l !== '');
  return {
    organisation: sanitizeLine(b.organisationName, 120) || 'Sealgate',
    logo: logoUrl(b.logo),
    support: b.supportContact === undefined ? undefined : sanitizeLine(b.supportContact, 200) || undefined,
    footer,
  };
}

export function shellFor(branding: PortalBranding, stylesheetHref: string, lang: PortalLocale = 'en'): Shell {
  return { lang, s: strings[lang], brand: brandFrom(branding), stylesheetHref };
}

export interface PageInput {
  readonly title: string;
  /** Inner HTML of <main> (already escaped by the caller). */
  readonly main: string;
  readonly bodyClass?: string;
  /** Same-origin module scripts (`/static/…`); the response's CSP must allow script-src 'self'. */
  readonly scripts?: readonly string[] | undefined;
  /** Valueless attributes on <body> that a page's script reads (e.g. data-link-key-missing). */
  readonly bodyFlags?: readonly string[] | undefined;
}

export function page(shell: Shell, input: PageInput): string {
  const { s, brand } = shell;
  const title = `${input.title} \u2013 ${brand.organisation}`;
  const logo = brand.logo ? `<img src="${e(brand.logo)}" alt="${e(s.logoAlt(brand.organisation))}">` : '';
  const foot = [
    brand.support ? `<p>${e(s.support(brand.support))}</p>` : '',
    brand.footer.length ? `<p>${brand.footer.map(e).join('<br>')}</p>` : '',
    `<p>${e(s.poweredBy)}</p>`,
  ].join('');
  return [
    '<!DOCTYPE html>',
    `<html lang="${shell.lang}" dir="ltr">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    '<meta name="referrer" content="no-referrer">',
    '<meta name="format-detection" content="telephone=no">',
    `<title>${e(title)}</title>`,
    `<link rel="stylesheet" href="${e(shell.stylesheetHref)}">`,
    ...(input.scripts ?? []).map((src) => `<script type="module" src="${e(src)}"></script>`),
    '</head>',
    `<body${input.bodyClass ? ` class="${e(input.bodyClass)}"` : ''}${(input.bodyFlags ?? []).filter((f) => /^data-[a-z-]{1,40}$/.test(f)).map((f) => ` ${f}`).join('')}>`,
    `<a class="skip" href="#main">${e(s.skipToContent)}</a>`,
    `<header class="brand"><div class="wrap">${logo}<span class="org">${e(brand.organisation)}</span></div></header>`,
    `<main id="main" class="wrap">${input.main}</main>`,
    `<footer class="wrap foot">${foot}</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
