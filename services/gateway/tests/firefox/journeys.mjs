// Drives Debian's firefox-esr over WebDriver BiDi (puppeteer-core, which never downloads a browser) through the
// journeys of test_web_firefox.py. Arguments: the Firefox to run; then, once that Firefox runs, one JSON object on
// stdin (gateway URL, axe-core, data to type): the test starts its platform meanwhile.
// Output: one JSON report on stdout of what each step showed; exit 1 when a step failed or a page had a console
// error, a CSP violation or an axe-core violation of a blocking impact (the Chromium tests' Checker, for Firefox).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const started = Date.now();
const report = {browser: null, steps: [], failures: [], control: null, ms: {}};
const failed = (step, message) => report.failures.push(`${step}: ${message}`);

// A fresh profile each run: root's home may hold none, and an old one would keep cookies between runs.
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ceres-firefox-'));
const browser = await puppeteer.launch({
  browser: 'firefox', protocol: 'webDriverBiDi', executablePath: process.argv[2], headless: true,
  userDataDir: profile, timeout: 30_000,
  env: {...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1'},
  extraPrefsFirefox: {
    'intl.accept_languages': 'fr-FR, fr',
    // Only loopback may be reached: whatever else Firefox would fetch in the background (updates, remote
    // settings, telemetry, portal detection) goes to a closed local port, and every name resolves to loopback
    // without a DNS query (Firefox still looked up its remote settings' host through the proxy settings alone).
    'network.dns.native-is-localhost': true, 'network.dns.forceResolve': '127.0.0.1',
    'network.proxy.type': 1, 'network.proxy.http': '127.0.0.1', 'network.proxy.http_port': 9,
    'network.proxy.ssl': '127.0.0.1', 'network.proxy.ssl_port': 9, 'network.proxy.allow_hijacking_localhost': false,
    'network.trr.mode': 5, 'network.dns.disablePrefetch': true, 'network.predictor.enabled': false,
    'network.http.speculative-parallel-limit': 0, 'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false, 'services.settings.server': 'http://127.0.0.1:9/',
    'browser.region.network.url': '', 'toolkit.telemetry.enabled': false, 'toolkit.telemetry.unified': false,
    'app.update.auto': false, 'extensions.update.enabled': false, 'extensions.blocklist.enabled': false,
    'media.gmp-manager.url': '', 'browser.safebrowsing.provider.mozilla.updateURL': '',
  },
});
report.browser = await browser.version();
report.ms.launch = Date.now() - started;

let stdin = '';
for await (const chunk of process.stdin) stdin += chunk;
const input = JSON.parse(stdin);
const BLOCKING_IMPACTS = new Set(input.blocking_impacts);  // the Chromium tests' Checker's
const axeSource = fs.readFileSync(input.axe, 'utf8');
fs.mkdirSync(input.artifacts, {recursive: true});

let page;
let pageProblems = [];
let stepStart = Date.now();

async function newPage() {
  page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  await page.setViewport({width: 1280, height: 900});
  // The page's own CSP reports each violation as this event: kept where each step's check reads it.
  await page.evaluateOnNewDocument(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
      `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile || e.documentURI}:${e.lineNumber})`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error') pageProblems.push(`console: ${m.text()} (${page.url()})`);
  });
  page.on('pageerror', (e) => pageProblems.push(`pageerror: ${e.message ?? e}`));
  // A refused form answers 4xx on purpose; a failing script, style, font or image does not.
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.request().isNavigationRequest()) pageProblems.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => pageProblems.push(`failed ${r.url()} ${r.failure()?.errorText ?? ''}`));
}

const text = (selector) => page.$eval(selector, (el) => el.innerText.trim());
const texts = (selector) => page.$$eval(selector, (els) => els.map((el) => el.innerText.trim()));
const count = (selector) => page.$$eval(selector, (els) => els.length);
const menu = () => texts('#navigation .fr-nav__link');
const url = (p) => new URL(p, input.url).href;

async function goto(p) {
  const response = await page.goto(url(p), {waitUntil: 'load'});
  return response?.status() ?? null;
}

async function submitBy(action) {
  // A form post answers with a page (or a redirect to one): wait for it before reading.
  const [response] = await Promise.all([page.waitForNavigation({waitUntil: 'load'}), action()]);
  return response?.status() ?? null;
}

async function clickText(selector, wanted) {
  // Its accessible text, hidden parts included (a « Transférer » link names its site for screen readers).
  const handle = await page.evaluateHandle((selector, wanted) => [...document.querySelectorAll(selector)].find((el) => {
    const label = el.getAttribute('aria-label') || el.textContent.replace(/\s+/g, ' ').trim();
    return label === wanted || label.startsWith(`${wanted} `);
  }) ?? null, selector, wanted);
  if (!(await handle.evaluate((el) => el !== null))) throw new Error(`no ${selector} reads « ${wanted} »`);
  return handle.asElement().click();
}

const button = (wanted) => submitBy(() => clickText('button', wanted));
const link = (wanted) => submitBy(() => clickText('a', wanted));

async function fieldId(labelText) {
  const id = await page.$$eval('label', (labels, wanted) => {
    const label = labels.find((l) => l.firstChild?.textContent.trim() === wanted || l.innerText.trim() === wanted);
    return label?.htmlFor || null;
  }, labelText);
  if (!id) throw new Error(`no field labelled « ${labelText} »`);
  return `[id="${id}"]`;
}

async function fill(labelText, value) {
  const selector = await fieldId(labelText);
  await page.$eval(selector, (el) => { el.value = ''; });
  await page.type(selector, value);
  return selector;
}

async function select(labelText, value) {
  await page.select(await fieldId(labelText), value);
}

// Each page a journey shows: its URL and title, a screenshot, no console error, no CSP violation, axe-core.
async function check(name, seen = {}) {
  const step = {name, ms: Date.now() - stepStart, url: page.url(), title: await page.title(),
    h1: await text('h1').catch(() => null), seen};
  const csp = await page.evaluate(() => window.__cspViolations ?? null);
  const number = String(report.steps.length + 1).padStart(2, '0');
  const screenshot = path.join(input.artifacts, `firefox-${number}-${name}.png`);
  await page.screenshot({path: screenshot, fullPage: true});
  if (await page.evaluate(() => typeof window.axe) === 'undefined') await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, {resultTypes: ['violations']});
    return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
  });
  const blocking = violations.filter((v) => BLOCKING_IMPACTS.has(v.impact));
  step.checks = {console: pageProblems, csp, axe: violations, screenshot, ms: Date.now() - stepStart - step.ms};
  if (csp === null) failed(name, 'the CSP listener did not run in the page');
  else if (csp.length) failed(name, `CSP violations ${JSON.stringify(csp)}`);
  if (pageProblems.length) failed(name, `console errors ${JSON.stringify(pageProblems)}`);
  if (blocking.length) failed(name, `accessibility violations ${JSON.stringify(blocking)}`);
  pageProblems = [];
  report.steps.push(step);
  stepStart = Date.now();
  return step;
}

// --- journeys ----------------------------------------------------------------------------------------------------
async function publicVerificationAndKeyboard() {
  await goto('/verification');
  // The first Tab reaches the skip link; following it puts the focus on the main content.
  await page.keyboard.press('Tab');
  const firstFocus = await page.evaluate(() => ({text: document.activeElement.innerText?.trim(),
    href: document.activeElement.getAttribute('href')}));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash === '#contenu');
  const afterSkip = await page.evaluate(() => document.activeElement.id
    || document.activeElement.closest('main')?.id || document.activeElement.tagName);
  await page.keyboard.press('Tab');
  const nextInMain = await page.evaluate(() => ({inMain: Boolean(document.activeElement.closest('main')),
    id: document.activeElement.id}));
  await check('verification', {menu: await menu(), firstFocus, afterSkip, nextInMain});

  await goto(`/verification?numero=${encodeURIComponent(input.verification.number)}&code=`);
  await check('verification-champ-manquant', {codeError: await text('#code-erreur'),
    number: await page.$eval(await fieldId('Numéro du document'), (el) => el.value)});

  await fill('Code de vérification', input.verification.code);
  await button('Vérifier');
  await check('verification-non-authentique', {title: await text('#resultat .fr-alert__title'),
    result: await text('#resultat')});
}

async function demoLogin(label) {
  await goto('/connexion/demonstration');
  await clickText('label.fr-label', label);  // the DSFR radio: its label takes the click
  const checked = await page.$eval(await fieldId(label), (el) => el.checked);
  if (!checked) throw new Error(`the profile « ${label} » is not checked after its label was clicked`);
  await button('Se connecter avec ce profil');
}

async function logOut() {
  await button('Se déconnecter');
  return text('main');
}

async function rolesAndTheirMenus() {
  const refusedStatus = await goto('/centres');
  await check('connexion-requise', {redirected: page.url(), message: await text('main'), status: refusedStatus});
  await link('Connexion de démonstration');
  const status = await button('Se connecter avec ce profil');
  await check('demo-sans-profil', {status, profileError: await text('#profil-erreur')});

  await demoLogin(input.centre_profile);
  const centre = {menu: await menu(), lead: await text('.fr-text--lead'), user: await text('#utilisateur')};
  await check('tableau-centre', centre);
  const deniedStatus = await goto('/centres/nouveau');  // the agents' page, refused by the server
  await check('centre-acces-refuse', {status: deniedStatus});
  await logOut();

  await demoLogin(input.agent_profile);
  await check('tableau-agent', {menu: await menu(), lead: await text('.fr-text--lead'),
    user: await text('#utilisateur'), counts: await texts('#indicateurs .ceres-count')});
}

async function singleSearchBox() {
  await link('Centres et sites');
  await fill('Rechercher', input.search);
  await submitBy(() => page.click('#barre-recherche button'));
  await check('recherche-centres', {counts: (await text('#compteurs')).split('\n'),
    rows: await texts('#resultats tbody tr')});
  await link(input.search_sites_tab);
  await check('recherche-sites', {rows: await texts('#resultats tbody tr')});
  await fill('Rechercher', input.out_of_scope);  // E6 within the agent's territory only
  await submitBy(() => page.click('#barre-recherche button'));
  await check('recherche-hors-perimetre', {none: await text('#aucun-resultat'),
    rows: await count('#resultats tbody tr')});
}

async function registerCentreWithErrorsThenSuccess() {
  await link('Enregistrer un centre');
  const csrf = await page.$eval('main form input[name="csrf_token"]', (el) => el.value);
  // A field error from the service (422), shown next to the field and in the summary linking to it.
  const siret = await fill('SIRET', input.register.bad_siret);
  const status = await button("Rechercher l'établissement");
  await check('siret-invalide', {status, csrfTokenLength: csrf.length,
    fieldError: await text('#siret-erreur'),
    summaryLink: await text('#erreur-formulaire a[href="#siret"]'),
    ariaInvalid: await page.$eval(siret, (el) => el.getAttribute('aria-invalid')),
    describedBy: await page.$eval(siret, (el) => el.getAttribute('aria-describedby'))});

  // The same form with a token that is not the session's: refused before the service is asked.
  await fill('SIRET', input.register.siret);
  await page.$eval('main form input[name="csrf_token"]', (el) => { el.value = 'jeton-falsifie'; });
  const forgedStatus = await button("Rechercher l'établissement");
  await check('jeton-falsifie', {status: forgedStatus, main: await text('main')});

  await link('Enregistrer un centre');
  await fill('SIRET', input.register.siret);
  await button("Rechercher l'établissement");
  const card = await text('#entreprise');
  await select('Type de centre', input.register.type);
  await fill('Représentant', input.register.representative);
  await check('apercu-entreprise', {card});
  await button('Enregistrer le centre');
  await check('centre-enregistre', {flash: await text('.fr-alert--success'), centre: await text('#centre')});
}

async function transferAfterConfirmation() {
  const search = `/centres?q=${encodeURIComponent(input.transfer.search)}&type=SITE`;
  await goto(search);
  await submitBy(() => page.click('#resultats tbody tr a'));
  await link(input.transfer.link);
  await fill('SIRET du centre qui reçoit le site', input.transfer.siret);
  await button('Continuer');
  // Nothing moved while the confirmation is shown: the same search, read with this session's cookie.
  const pending = await page.evaluate(async (search) => {
    const html = await (await fetch(search)).text();
    const rows = new DOMParser().parseFromString(html, 'text/html').querySelectorAll('#resultats tbody tr');
    return [...rows].map((row) => row.textContent.replace(/\s+/g, ' ').trim());
  }, search);
  await check('transfert-confirmation', {confirmation: await text('#confirmation'), pending,
    buttons: await texts('main button')});
  await button('Confirmer le transfert');
  const flash = await text('.fr-alert--success');
  const centre = await text('#centre');
  await goto(search);
  await check('transfert-fait', {flash, centre, after: await texts('#resultats tbody tr')});
  report.loggedOut = await logOut();
}

// The checks must be able to fail: an inline script added on purpose is blocked by the CSP and reported, and an
// error thrown by the page's own code is seen.
async function controls() {
  await goto('/verification');
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true;';
    document.body.append(script);
    setTimeout(() => { throw new Error('erreur de contrôle'); }, 0);
  });
  await page.waitForFunction(() => window.__cspViolations.length > 0, {timeout: 5_000}).catch(() => null);
  const deadline = Date.now() + 5_000;
  while (!pageProblems.some((p) => p.includes('erreur de contrôle')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  report.control = {ran: await page.evaluate(() => window.__inlineRan === true),
    violations: await page.evaluate(() => window.__cspViolations), problems: pageProblems};
  pageProblems = [];  // expected here; not a failure of a page
}

const journeys = {publicVerificationAndKeyboard, rolesAndTheirMenus, singleSearchBox,
  registerCentreWithErrorsThenSuccess, transferAfterConfirmation, controls};
try {
  await newPage();
  for (const [name, journey] of Object.entries(journeys)) {
    try {
      await journey();
    } catch (error) {
      failed(name, `${error.message} (at ${page.url()})`);
      await page.screenshot({path: path.join(input.artifacts, `firefox-echec-${name}.png`), fullPage: true})
        .catch(() => null);
      break;  // the next journeys build on this one's state
    }
  }
} finally {
  await browser.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
report.ms.total = Date.now() - started;
process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
process.exit(report.failures.length ? 1 : 0);
