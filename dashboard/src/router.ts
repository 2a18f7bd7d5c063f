/** History-API routing: the server answers every unknown GET for HTML with index.html, so deep links work. */

export type Cleanup = () => void;
export type Page = (outlet: HTMLElement, params: Record<string, string>) => Cleanup | void | Promise<Cleanup | void>;

interface Route {
  pattern: RegExp;
  keys: string[];
  page: Page;
}

const routes: Route[] = [];
let cleanup: Cleanup | void;
let outlet: HTMLElement;
let notFound: Page;
let guard: (path: string) => string | undefined = () => undefined;

/** `/exports/:id` style patterns. */
export function route(path: string, page: Page): void {
  const keys: string[] = [];
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, (_m, k: string) => (keys.push(k), '([^/]+)'))}/?$`);
  routes.push({ pattern, keys, page });
}

export function startRouter(el: HTMLElement, opts: { notFound: Page; guard?: (path: string) => string | undefined }): void {
  outlet = el;
  notFound = opts.notFound;
  if (opts.guard) guard = opts.guard;
  window.addEventListener('popstate', () => void render());
  document.addEventListener('click', (e) => {
    const a = (e.target as Element).closest?.('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
  void render();
}

export function navigate(path: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void render();
}

export const currentPath = () => location.pathname;

let generation = 0;
async function render(): Promise<void> {
  const redirect = guard(location.pathname);
  if (redirect && redirect !== location.pathname) {
    history.replaceState(null, '', redirect);
  }
  const mine = ++generation;
  if (cleanup) cleanup();
  cleanup = undefined;
  outlet.replaceChildren();
  window.dispatchEvent(new CustomEvent('outport:navigate'));
  const path = location.pathname;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
    const result = await r.page(outlet, params);
    // A later navigation happened while this page was loading: drop its subscriptions at once.
    if (mine !== generation) result?.();
    else cleanup = result;
    return;
  }
  await notFound(outlet, {});
}
