'use strict';
/**
 * Child process of `startEmbeddedClickHouse` (embedded-clickhouse.ts): the real ClickHouse engine (chdb) behind
 * enough of ClickHouse's HTTP interface for `@clickhouse/client` to work unchanged.
 *
 * Plain CommonJS on purpose: it is forked both from ts-jest (src/) and from compiled dist/, and must not need
 * a TypeScript loader. Started with `OUTPORT_CH_DATA_DIR` and `OUTPORT_CH_PORT` (0 = any free port); reports
 * `{ type: 'ready', port }` over IPC, exits when the parent disconnects or sends `{ type: 'stop' }`.
 *
 * Implemented
 * - POST/GET `/` with the query in the body, in the `query` URL parameter, or both (URL query + body = INSERT
 *   data, as ClickHouse does); `multipart/form-data` bodies carrying `query` and `param_*` parts.
 * - `database`, `default_format`, `query_id`, `param_<name>` (bound server-side by the engine, values never
 *   enter the SQL text), any other URL parameter is applied as a setting (`SET name = value` on a fresh engine
 *   session per request, so settings never leak between requests).
 * - Streaming results for SELECT-like statements, chunk by chunk with TCP back-pressure; the query is cancelled
 *   when the client goes away. Statements the engine cannot stream (DDL, INSERT, SHOW, ...) run buffered.
 * - Errors before the first byte: ClickHouse's status mapping (400/404/413/500/501...), body
 *   `Code: N. DB::Exception: ... (TYPE)`, `X-ClickHouse-Exception-Code`. Errors after rows were sent: the
 *   `X-ClickHouse-Exception-Tag` frame that ClickHouse >= 25.11 appends, which @clickhouse/client parses.
 * - `/ping` and `GET /` answer `Ok.`; headers `X-ClickHouse-Query-Id`, `-Format`, `-Timezone`, `-Summary`.
 * - gzip/deflate/br request bodies (`Content-Encoding`), gzip responses when `enable_http_compression=1`.
 *
 * Not implemented (honestly)
 * - Authentication: every user/password is accepted (it listens on 127.0.0.1 only).
 * - `session_id` sessions (temporary tables across requests), `KILL QUERY`, progress headers
 *   (`send_progress_in_http_headers` is ignored), `wait_end_of_query` buffering, zstd/lz4 compression.
 * - `X-ClickHouse-Summary` write counters: the engine does not report rows written, so they are 0; read
 *   counters come from the engine for buffered statements only.
 * - INSERT bodies are decoded as UTF-8 text (JSONEachRow/CSV/TSV work; binary input formats do not).
 * - Parameterized statements are serialised process-wide (the bundled libchdb clobbers parameters of
 *   concurrent parameterized queries on different connections); unparameterized ones run in parallel.
 */
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const { once } = require('node:events');

const chdbRoot = path.dirname(require.resolve('chdb'));
// @clickhouse/client sends each param already in ClickHouse's escaped text form. chdb's binder would escape a
// JS string again, so values are wrapped in RawParam and its formatter is taught to pass them through verbatim.
// The patch must land before chdb's index.js destructures formatParamValue.
const serialize = require(path.join(chdbRoot, 'dist', 'serialize.js'));
class RawParam {
  constructor(text) {
    this.text = text;
  }
}
const formatParamValue = serialize.formatParamValue;
serialize.formatParamValue = (v) => (v instanceof RawParam ? v.text : formatParamValue(v));
const { Session } = require('chdb');

const dataDir = process.env.OUTPORT_CH_DATA_DIR;
const port = Number(process.env.OUTPORT_CH_PORT || 0);
const ENGINE_ARGS = ['--async_load_databases=0', '--timezone=UTC'];

/** URL parameters that are protocol, not settings. */
const PROTOCOL_PARAMS = new Set([
  'query', 'query_id', 'database', 'default_format', 'user', 'password', 'quota_key', 'session_id',
  'session_timeout', 'session_check', 'role', 'compress', 'decompress', 'buffer_size', 'wait_end_of_query',
  'stacktrace', 'enable_http_compression', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms',
  'http_response_buffer_size', 'http_zlib_compression_level', 'http_native_compression_disable_checksumming_on_decompress',
  'http_wait_end_of_query', 'http_write_exception_in_output_format', 'cancel_http_readonly_queries_on_client_close',
]);

/** ClickHouse's HTTP status for an exception code (HTTPHandler); anything else is 500. */
const STATUS_BY_CODE = new Map([
  ...[6, 26, 27, 32, 36, 38, 41, 53, 62, 69, 72, 117, 130, 321, 456, 457].map((c) => [c, 400]),
  ...[46, 47, 50, 56, 60, 63, 73, 81, 115].map((c) => [c, 404]),
  ...[164, 192, 193, 497].map((c) => [c, 403]),
  [194, 401], [516, 401], [202, 429], [168, 413], [48, 501],
]);

let anchor; // keeps the engine bound to dataDir for the life of the process
let paramTail = Promise.resolve();

/** Runs `fn` while no other parameterized statement is being bound. */
function withParamLock(fn) {
  const run = paramTail.then(fn);
  paramTail = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

function errorCode(message) {
  const m = /Code: (\d+)/.exec(message);
  return m ? Number(m[1]) : 1000;
}

function errorText(err) {
  const message = err && err.message ? String(err.message) : String(err);
  return /Code: \d+/.test(message) ? message : `Code: 1000. DB::Exception: ${message}. (STD_EXCEPTION)`;
}

function settingLiteral(value) {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function readBody(req) {
  const chunks = [];
  const enc = String(req.headers['content-encoding'] || '').toLowerCase();
  const source =
    enc === 'gzip' || enc === 'deflate'
      ? req.pipe(zlib.createUnzip())
      : enc === 'br'
        ? req.pipe(zlib.createBrotliDecompress())
        : req;
  for await (const c of source) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Splits a multipart/form-data body into its named text parts. */
function parseMultipart(body, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new Error('Code: 36. DB::Exception: multipart body without a boundary. (BAD_ARGUMENTS)');
  const delimiter = `--${m[1] || m[2]}`;
  const parts = {};
  for (const raw of body.toString('utf8').split(delimiter).slice(1)) {
    if (raw.startsWith('--')) break;
    const headerEnd = raw.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const name = /name="([^"]*)"/i.exec(raw.slice(0, headerEnd));
    if (name) parts[name[1]] = raw.slice(headerEnd + 4).replace(/\r\n$/, '');
  }
  return parts;
}

function summary(read) {
  const s = (n) => String(n || 0);
  return JSON.stringify({
    read_rows: s(read.rowsRead), read_bytes: s(read.bytesRead), written_rows: '0', written_bytes: '0',
    total_rows_to_read: '0', result_rows: s(read.rowsRead), result_bytes: s(read.bytesRead),
    elapsed_ns: s(Math.round((read.elapsed || 0) * 1e9)),
  });
}

function formatOf(sql, fallback) {
  const m = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql);
  return m ? m[1] : fallback;
}

function sendError(res, err, queryId) {
  const text = errorText(err);
  const code = errorCode(text);
  if (res.headersSent) return;
  res.writeHead(STATUS_BY_CODE.get(code) || 500, {
    'Content-Type': 'text/plain; charset=UTF-8',
    'X-ClickHouse-Exception-Code': String(code),
    'X-ClickHouse-Query-Id': queryId,
    'X-ClickHouse-Timezone': 'UTC',
  });
  res.end(`${text}\n`);
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname.replace(/\/+$/, '') === '/ping' || (req.method === 'GET' && !url.searchParams.has('query'))) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' });
    res.end('Ok.\n');
    return;
  }
  const queryId = url.searchParams.get('query_id') || crypto.randomUUID();
  let session;
  try {
    const body = req.method === 'POST' ? await readBody(req) : Buffer.alloc(0);
    const fields = Object.fromEntries(url.searchParams);
    const contentType = String(req.headers['content-type'] || '');
    let bodyText = body.toString('utf8');
    if (contentType.toLowerCase().startsWith('multipart/form-data')) {
      Object.assign(fields, parseMultipart(body, contentType));
      bodyText = '';
    }
    const sql = [fields.query, bodyText].filter((s) => s && s.length > 0).join('\n');
    if (!sql.trim()) throw new Error('Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)');

    const params = {};
    const settings = [];
    for (const [k, v] of Object.entries(fields)) {
      if (k.startsWith('param_')) params[k.slice(6)] = new RawParam(v);
      else if (!PROTOCOL_PARAMS.has(k)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`Code: 115. DB::Exception: Unknown setting '${k}'. (UNKNOWN_SETTING)`);
        settings.push(`SET ${k} = ${settingLiteral(v)}`);
      }
    }
    const format = fields.default_format || 'TabSeparated';
    session = new Session(dataDir);
    const database = fields.database || req.headers['x-clickhouse-database'];
    if (database && database !== 'default') {
      if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`Code: 81. DB::Exception: Database ${database} does not exist. (UNKNOWN_DATABASE)`);
      await session.queryAsync(`USE ${database}`);
    }
    for (const s of settings) await session.queryAsync(s);

    const gzip = fields.enable_http_compression === '1' && /\bgzip\b/.test(String(req.headers['accept-encoding'] || ''));
    const headers = {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': formatOf(sql, format),
      'X-ClickHouse-Timezone': 'UTC',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    };
    const hasParams = Object.keys(params).length > 0;
    await respond(session, { sql, params, hasParams, format, headers, gzip, req, res, queryId });
  } catch (err) {
    sendError(res, err, queryId);
  } finally {
    if (session) session.close();
  }
}

async function respond(session, { sql, params, hasParams, format, headers, gzip, req, res }) {
  let stream;
  try {
    stream = hasParams ? session.queryStreamBind(sql, params, { format }) : session.queryStream(sql, { format });
  } catch (err) {
    if (errorCode(errorText(err)) !== 36 || !/Streaming query is not supported/.test(err.message)) throw err;
  }
  if (!stream) {
    const result = hasParams
      ? await withParamLock(() => session.queryBindAsync(sql, params, { format }))
      : await session.queryAsync(sql, { format });
    const out = Buffer.from(result.bytes());
    res.writeHead(200, { ...headers, 'X-ClickHouse-Summary': summary(result) });
    res.end(gzip ? zlib.gzipSync(out) : out);
    return;
  }

  let gone = false;
  res.on('close', () => {
    if (!res.writableFinished) gone = true;
  });
  const it = stream[Symbol.asyncIterator]();
  try {
    const first = hasParams ? await withParamLock(() => it.next()) : await it.next();
    const tag = crypto.randomBytes(8).toString('hex');
    res.writeHead(200, {
      ...headers,
      'X-ClickHouse-Exception-Tag': tag,
      'X-ClickHouse-Summary': summary({}),
    });
    const out = gzip ? zlib.createGzip() : res;
    if (gzip) out.pipe(res);
    const write = (buf) => (out.write(buf) || gone ? undefined : drained(out, res));
    try {
      for (let r = first; !r.done && !gone; r = await it.next()) await write(Buffer.from(r.value.raw()));
    } catch (err) {
      // The frame ClickHouse >= 25.11 appends when a query fails after the response started; the length
      // counts the message's trailing newline.
      const msg = Buffer.from(`${errorText(err)}\n`);
      await write(Buffer.concat([
        Buffer.from(`\r\n__exception__\r\n${tag}\r\n`), msg,
        Buffer.from(`${msg.length} ${tag}\r\n__exception__\r\n`),
      ]));
    }
    out.end();
    if (!gone && !res.writableFinished) await once(res, 'close');
  } finally {
    stream.cancel();
    if (gone) req.destroy();
  }
}

/** Resolves when `out` can take more data, or when the client went away. */
function drained(out, res) {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      res.off('close', done);
      resolve();
    };
    out.on('drain', done);
    res.on('close', done);
  });
}

function main() {
  if (!dataDir) throw new Error('OUTPORT_CH_DATA_DIR is required');
  anchor = new Session(dataDir, { connectionArgs: ENGINE_ARGS });
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => sendError(res, err, ''));
  });
  server.keepAliveTimeout = 10_000;
  const stop = () => {
    server.close();
    server.closeAllConnections();
    try {
      anchor.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('message', (m) => m && m.type === 'stop' && stop());
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  server.listen(port, '127.0.0.1', () => {
    const message = { type: 'ready', port: server.address().port };
    if (process.send) process.send(message);
    else process.stdout.write(`${JSON.stringify(message)}\n`);
  });
}

try {
  main();
} catch (err) {
  if (process.send) process.send({ type: 'error', message: String(err && err.stack ? err.stack : err) });
  process.exitCode = 1;
}
