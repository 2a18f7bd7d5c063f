/**
 * The dashboard's only way to the server: the public GraphQL API, over HTTP for queries and mutations and over
 * graphql-ws for subscriptions, authenticated with the API token the user signed in with. The token is kept in
 * localStorage, so a new tab or a restarted browser stays signed in; "Sign out" removes it, and every open tab
 * follows (the `storage` event).
 */
import { createClient, type Client } from 'graphql-ws';

const TOKEN_KEY = 'outport.token';
const ENDPOINT = '/graphql';

/** One error of a response: BAD_USER_INPUT answers one per bad field, each naming it in `field`. */
export interface ApiIssue {
  message: string;
  code?: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(message: string, readonly code?: string, readonly field?: string, readonly issues: ApiIssue[] = []) {
    super(message);
    this.name = 'ApiError';
  }
}

export const getToken = () => localStorage.getItem(TOKEN_KEY);

export function setToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token);
  resetSocket();
}

export function clearToken(): void {
  localStorage.removeItem(TOKEN_KEY);
  // Tokens kept per tab by earlier versions must not survive a sign-out either.
  sessionStorage.removeItem(TOKEN_KEY);
  resetSocket();
}

/** Another tab signed in or out: `fn` gets the new token (null after a sign-out). */
export function onTokenChangedElsewhere(fn: (token: string | null) => void): void {
  window.addEventListener('storage', (e) => {
    if (e.key !== TOKEN_KEY && e.key !== null) return;
    resetSocket();
    fn(getToken());
  });
}

/** Called when the server refuses the token (revoked, deleted): the app sends the user back to sign-in. */
let onUnauthenticated: () => void = () => undefined;
export const handleUnauthenticated = (fn: () => void) => {
  onUnauthenticated = fn;
};

type GqlError = { message: string; extensions?: { code?: string; field?: string } };

/** Runs a query or mutation; throws ApiError with the first error's message, code and field, and every error as issues. */
export async function gql<T = any>(query: string, variables: Record<string, unknown> = {}, token = getToken()): Promise<T> {
  let res: Response;
  try {
    res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('Cannot reach the Outport server. Is it running?', 'NETWORK');
  }
  let body: { data?: T; errors?: GqlError[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`The server answered ${res.status} ${res.statusText} without a GraphQL response`, 'HTTP');
  }
  const err = body.errors?.[0];
  if (err) {
    if (err.extensions?.code === 'UNAUTHENTICATED' && token === getToken()) onUnauthenticated();
    const issues = body.errors!.map((e) => ({ message: e.message, code: e.extensions?.code, field: e.extensions?.field }));
    throw new ApiError(err.message, err.extensions?.code, err.extensions?.field, issues);
  }
  return body.data as T;
}

// ---- subscriptions ---------------------------------------------------------------------------------------------

let socket: Client | undefined;
type SocketState = 'connecting' | 'live' | 'offline';
const stateListeners = new Set<(s: SocketState) => void>();
const reconnectListeners = new Set<() => void>();

function resetSocket(): void {
  socket?.dispose();
  socket = undefined;
}

function ws(): Client {
  if (socket) return socket;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ENDPOINT}`;
  socket = createClient({
    url,
    lazy: true,
    connectionParams: () => ({ authorization: `Bearer ${getToken() ?? ''}` }),
    retryAttempts: Infinity,
    shouldRetry: () => true,
    // Back off up to 10 s between reconnects, with jitter so many tabs do not reconnect in step.
    retryWait: async (retries) => new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** retries) + Math.random() * 300)),
  });
  socket.on('connecting', () => stateListeners.forEach((l) => l('connecting')));
  socket.on('connected', () => {
    stateListeners.forEach((l) => l('live'));
    // Changes made while the socket was down were not pushed: pages refetch on reconnect. The first connect too:
    // the socket is lazy, so a page's data is read before its subscriptions exist, and what changed in between
    // (a run that failed while the socket connected) would never show. After a macrotask, so the subscribe
    // messages queued on this connect are sent before the refetch.
    setTimeout(() => reconnectListeners.forEach((l) => l()), 0);
  });
  socket.on('closed', () => stateListeners.forEach((l) => l('offline')));
  return socket;
}

export function onSocketState(fn: (s: SocketState) => void): () => void {
  stateListeners.add(fn);
  return () => stateListeners.delete(fn);
}

/** `fn` runs each time the live connection opens, the first time included: refetch what the page shows. */
export function onReconnect(fn: () => void): () => void {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

/** Subscribes; returns the unsubscribe function. `onError` gets subscription-level errors (e.g. NOT_FOUND). */
export function subscribe<T = any>(query: string, variables: Record<string, unknown>, onData: (data: T) => void, onError?: (e: ApiError) => void): () => void {
  return ws().subscribe<T>({ query, variables }, {
    next: (r) => {
      if (r.errors?.length) onError?.(new ApiError(r.errors[0].message, (r.errors[0] as GqlError).extensions?.code));
      else if (r.data) onData(r.data as T);
    },
    error: (e) => {
      const first = Array.isArray(e) ? (e[0] as GqlError) : undefined;
      onError?.(new ApiError(first?.message ?? (e instanceof Error ? e.message : 'subscription failed'), first?.extensions?.code));
    },
    complete: () => undefined,
  });
}
