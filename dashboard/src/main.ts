/** Boots the dashboard: layout, routes, and the sign-in guard. */
import './style.css';
import { clearToken, getToken, gql, handleUnauthenticated, onTokenChangedElsewhere } from './api';
import { h } from './dom';
import { Q } from './queries';
import { currentPath, navigate, route, startRouter } from './router';
import { destinationFormPage, destinationsPage } from './pages/destinations';
import { exportDetailPage } from './pages/export-detail';
import { exportFormPage } from './pages/export-form';
import { exportsPage } from './pages/exports';
import { notificationsPage } from './pages/notifications';
import { settingsPage } from './pages/settings';
import { signInPage } from './pages/signin';

const main = h('main', { id: 'main', tabindex: -1 });
const teamName = h('span', { class: 'team' });
const navLink = (href: string, text: string) => h('a', { href, class: 'nav-link' }, text);
const nav = h('nav', { 'aria-label': 'Main' },
  navLink('/exports', 'Exports'),
  navLink('/destinations', 'Destinations'),
  navLink('/settings', 'Settings'),
  teamName,
  h('button', { type: 'button', class: 'link', onclick: () => {
    clearToken();
    teamName.textContent = '';
    navigate('/signin?signedOut=1');
  } }, 'Sign out'));

document.getElementById('app')!.append(
  h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
  h('header', { class: 'topbar' }, h('a', { href: '/exports', class: 'brand', 'aria-label': 'Outport home' }, 'Outport'), nav),
  main);

window.addEventListener('outport:navigate', () => {
  const signedIn = !!getToken() && currentPath() !== '/signin';
  nav.hidden = !signedIn;
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a.nav-link')) {
    if (currentPath().startsWith(a.pathname)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (signedIn && !teamName.textContent) {
    gql<{ team: { name: string } }>(Q.team).then((r) => (teamName.textContent = r.team.name)).catch(() => undefined);
  }
  if (!signedIn) teamName.textContent = '';
});

// Signing out (or in as another team) in one tab applies to every tab of this browser.
onTokenChangedElsewhere((token) => {
  teamName.textContent = '';
  if (!token) navigate('/signin?signedOut=1', { replace: true });
  else navigate(currentPath(), { replace: true });
});

handleUnauthenticated(() => {
  clearToken();
  navigate(`/signin?next=${encodeURIComponent(currentPath())}`, { replace: true });
});

route('/signin', signInPage);
route('/', () => navigate('/exports', { replace: true }));
route('/exports', exportsPage);
route('/exports/new', (outlet) => exportFormPage(outlet));
route('/exports/:id', (outlet, p) => exportDetailPage(outlet, { id: p.id }));
route('/exports/:id/edit', (outlet, p) => exportFormPage(outlet, { id: p.id }));
route('/settings', settingsPage);
route('/notifications', notificationsPage);
route('/destinations', destinationsPage);
route('/destinations/new', (outlet) => destinationFormPage(outlet, {}));
route('/destinations/:id', (outlet, p) => destinationFormPage(outlet, { id: p.id }));

startRouter(main, {
  guard: (path) => (path !== '/signin' && !getToken() ? `/signin${path === '/' ? '' : `?next=${encodeURIComponent(path)}`}` : undefined),
  notFound: (outlet) => {
    outlet.append(h('h1', null, 'Not found'), h('p', null, h('a', { href: '/exports' }, 'Back to exports')));
  },
});
