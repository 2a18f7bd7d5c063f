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
 * - `database`, `default_format`, `query_id` (echoed only), `param_<name>` (bound as the request connection's
 *   `SET param_<name>`, the value a string literal: it never enters the statement's text), any other URL
 *   parameter is applied as a setting (`SET name = value` on a fresh engine connection per request, so settings
 *   and parameters never leak between requests, and requests run concurrently, parameterized or not).
 * - SELECT/WITH statements stream as a server streams them: the engine writes the whole result, in the requested
 *   format, into a private named pipe (`INSERT INTO FUNCTION file('<fifo>', '<format>') SELECT ...`) which is
 *   relayed with back-pressure. So every format is one output per query (one Parquet/Arrow/ORC/Avro file, one
 *   header for *WithNames, one JSON document), encoded by the engine's parallel pipeline. Other statements,
 *   INTO OUTFILE, WITH TOTALS and `extremes=1` (which INSERT ... SELECT would drop) run buffered and are
 *   answered whole with Content-Length and a real X-ClickHouse-Summary read counter.
 * - The first MiB of a streamed result is held (all of it with `wait_end_of_query=1`), so a query failing early
 *   gets ClickHouse's status mapping (400/404/413/500/501...), body `Code: N. DB::Exception: ... (TYPE)` and
 *   `X-ClickHouse-Exception-Code`. A failure after bytes were sent appends the `X-ClickHouse-Exception-Tag`
 *   frame of ClickHouse >= 25.11 (parsed by @clickhouse/client) and then breaks the connection without the
 *   final chunk, so every client (binary formats too) sees a failed response, never a short success.
 * - A client that goes away gets its query killed (`KILL QUERY`, found by a marker comment), buffered or streamed.
 * - `/ping` and `GET /` answer `Ok.`; headers `X-ClickHouse-Query-Id`, `-Format`, `-Timezone`, `-Summary`.
 * - gzip/deflate/br request bodies (`Content-Encoding`); gzip, deflate, br or zstd responses when
 *   `enable_http_compression=1` and Accept-Encoding allows, at `http_zlib_compression_level` (default 3). A streamed
 *   SELECT's gzip, br and zstd are written by the engine itself (as a server compresses in its own threads);
 *   deflate and buffered answers go through Node's zlib (zstd there needs Node >= 22.15, else the answer is sent
 *   uncompressed, without Content-Encoding, which HTTP allows).
 *
 * Not implemented (honestly)
 * - Authentication: every user/password is accepted (it listens on 127.0.0.1 only).
 * - `session_id` sessions (temporary tables across requests); `KILL QUERY` by the client's `query_id` (the engine
 *   assigns its own ids); progress headers (`send_progress_in_http_headers` is ignored); lz4/xz/bz2/snappy responses;
 *   ClickHouse's native compression (`compress=1`).
 * - `X-ClickHouse-Summary` of a streamed SELECT is all zeros (sent with the headers, before the counts exist;
 *   the engine reports nothing for INSERT ... SELECT); write counters are always 0. For the same reason the
 *   `statistics` of JSON formats read 0 rows on streamed SELECTs.
 * - The exception frame is written even inside binary formats (as ClickHouse does); clients of those see the
 *   broken connection.
 * - INSERT bodies are decoded as UTF-8 text (JSONEachRow/CSV/TSV work; binary input formats do not).
 * - Named pipes need a POSIX system (chdb runs on Linux and macOS only anyway).
 */
// Every streamed query holds a libuv thread for its whole run (chdb's async calls block one): leave room for
// concurrent exports plus the fs and zlib work around them. Must be set before the pool is first used.
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '32';

const http = require('node:http');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const { execFile } = require('node:child_process');
const { once } = require('node:events');
const { promisify } = require('node:util');
const { Session } = require('chdb');

const execFileAsync = promisify(execFile);
const dataDir = process.env.OUTPORT_CH_DATA_DIR;
const port = Number(process.env.OUTPORT_CH_PORT || 0);
const ENGINE_ARGS = ['--async_load_databases=0', '--timezone=UTC'];
/**
 * A streamed response starts once this much output is ready or the query ended, so that a query failing early
 * still gets an error status (ClickHouse's HTTP handler buffers its first MiB the same way).
 */
const HOLD_BYTES = 1 << 20;
/** Errors that the `INSERT INTO FUNCTION file()` wrapping itself can cause; the query is then run unwrapped. */
const WRAPPING_ERRORS = new Set(['SYNTAX_ERROR', 'DUPLICATE_COLUMN', 'ILLEGAL_COLUMN', 'FORMAT_IS_NOT_SUITABLE_FOR_OUTPUT', 'NOT_IMPLEMENTED', 'UNKNOWN_FORMAT']);

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
let pipeDir; // private directory of the per-query named pipes

function errorCode(message) {
  const m = /Code: (\d+)/.exec(message);
  return m ? Number(m[1]) : 1000;
}

function errorType(message) {
  const m = /\(([A-Z_]+)\)\s*$/.exec(message.trim());
  return m ? m[1] : '';
}

function errorText(err) {
  const message = err && err.message ? String(err.message) : String(err);
  return /Code: \d+/.test(message) ? message : `Code: 1000. DB::Exception: ${message}. (STD_EXCEPTION)`;
}

function settingLiteral(value) {
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  return stringLiteral(value);
}

/** A ClickHouse string literal holding exactly `value` (the parser undoes precisely these escapes). */
function stringLiteral(value) {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;
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

const TRAILING_FORMAT = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i;

function formatOf(sql, fallback) {
  const m = TRAILING_FORMAT.exec(sql);
  return m ? m[1] : fallback;
}

/**
 * The SELECT to stream through a named pipe, without its FORMAT clause, or undefined for statements the
 * engine must answer itself: anything but a SELECT, INTO OUTFILE (the engine writes that file), and WITH TOTALS
 * or extremes (INSERT ... SELECT drops them).
 */
function streamableSelect(sql, settings) {
  const head = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)+/, '');
  if (!/^(?:SELECT|WITH)\b|^\(/i.test(head)) return undefined;
  if (/\bINTO\s+OUTFILE\b|\bWITH\s+TOTALS\b/i.test(sql)) return undefined;
  if (settings.extremes && !/^(0|false)$/i.test(settings.extremes)) return undefined;
  return sql.replace(TRAILING_FORMAT, '').replace(/\s*;?\s*$/, '');
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

/**
 * The response compression the client asked for and allowed (`enable_http_compression=1`), as ClickHouse picks it.
 * `suffix`: the engine writes this coding itself (file() takes the codec from the pipe's name) at `level`, as a
 * ClickHouse server compresses in its own threads; `create`: Node's compressor, for answers the engine does not
 * write into a pipe (undefined for zstd before Node 22.15: such an answer goes out uncompressed, which HTTP allows).
 */
function responseEncoding(fields, req) {
  if (fields.enable_http_compression !== '1') return undefined;
  const accepted = String(req.headers['accept-encoding'] || '').toLowerCase();
  const level = Math.min(9, Math.max(1, Number(fields.http_zlib_compression_level) || 3));
  if (/\bgzip\b/.test(accepted)) return { name: 'gzip', level, suffix: '.gz', create: () => zlib.createGzip({ level }) };
  if (/\bdeflate\b/.test(accepted)) return { name: 'deflate', level, create: () => zlib.createDeflate({ level }) };
  const quality = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level } };
  if (/\bbr\b/.test(accepted)) return { name: 'br', level, suffix: '.br', create: () => zlib.createBrotliCompress(quality) };
  const createZstd = zlib.createZstdCompress;
  if (/\bzstd\b/.test(accepted)) return { name: 'zstd', level, suffix: '.zst', create: createZstd ? () => createZstd() : undefined };
  return undefined;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname.replace(/\/+$/, '') === '/ping' || (req.method === 'GET' && !url.searchParams.has('query'))) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' });
    res.end('Ok.\n');
    return;
  }
  const queryId = url.searchParams.get('query_id') || crypto.randomUUID();
  // Marks the statement in system.processes so that it can be killed when the client goes away.
  const mark = `/* outport-embedded ${crypto.randomUUID()} */`;
  let session;
  let running; // the engine call of this request, once started
  let runningSettled = false;
  const killOnHangUp = () => {
    if (!res.writableFinished && running && !runningSettled) void killWhileRunning(mark, running);
  };
  res.on('close', killOnHangUp);
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

    // Each request gets its own engine connection. Parameters are bound as that connection's `SET param_<name>`
    // (the text form travels as a string literal and is parsed by the placeholder's type, as ClickHouse's HTTP
    // handler does), never spliced into the statement, and never through chdb's binder, whose parameter state
    // is shared process-wide and so forced every parameterized statement to run alone.
    // Applied by one `SET a = .., param_b = ..`: every engine statement costs ~0.4 ms of engine CPU and a thread-pool
    // round trip (2-3 ms under load), and a query carries ~10 of them.
    const setup = [];
    const settings = {};
    for (const [k, v] of Object.entries(fields)) {
      if (k.startsWith('param_')) {
        if (!/^param_[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`Code: 36. DB::Exception: Bad query parameter name '${k.slice(6)}'. (BAD_ARGUMENTS)`);
        setup.push(`${k} = ${stringLiteral(v)}`);
      } else if (!PROTOCOL_PARAMS.has(k)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`Code: 115. DB::Exception: Unknown setting '${k}'. (UNKNOWN_SETTING)`);
        settings[k] = v;
        setup.push(`${k} = ${settingLiteral(v)}`);
      }
    }
    const format = formatOf(sql, fields.default_format || 'TabSeparated');
    if (!/^[A-Za-z0-9_]+$/.test(format)) throw new Error(`Code: 73. DB::Exception: Unknown format ${format}. (UNKNOWN_FORMAT)`);
    session = new Session(dataDir);
    const database = fields.database || req.headers['x-clickhouse-database'];
    if (database && database !== 'default') {
      if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`Code: 81. DB::Exception: Database ${database} does not exist. (UNKNOWN_DATABASE)`);
      await session.queryAsync(`USE ${database}`);
    }
    if (setup.length) await session.queryAsync(`SET ${setup.join(', ')}`);

    const encoding = responseEncoding(fields, req);
    const headers = {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Timezone': 'UTC',
      ...(encoding ? { 'Content-Encoding': encoding.name } : {}),
    };
    const track = (p) => {
      running = p;
      runningSettled = false;
      const settled = () => {
        runningSettled = true;
      };
      p.then(settled, settled);
      if (res.destroyed) killOnHangUp();
      return p;
    };
    const select = streamableSelect(sql, settings);
    const holdAll = fields.wait_end_of_query === '1';
    if (select !== undefined && (await streamThroughPipe(session, { select, mark, format, headers, encoding, holdAll, req, res, track }))) return;
    await respondBuffered(session, { sql: `${mark} ${sql}`, format, headers, encoding, res, track });
  } catch (err) {
    sendError(res, err, queryId);
  } finally {
    res.off('close', killOnHangUp);
    if (running) await running.catch(() => undefined);
    if (session) session.close();
  }
}

/** Runs the statement to completion and answers with its whole output. */
async function respondBuffered(session, { sql, format, headers, encoding, res, track }) {
  const result = await track(session.queryAsync(sql, { format }));
  let out = Buffer.from(result.bytes());
  const coded = encoding && encoding.create;
  if (coded) out = await compressAll(encoding.create(), out);
  const { 'Content-Encoding': _coding, ...identity } = headers;
  res.writeHead(200, { ...(coded ? headers : identity), 'Content-Length': String(out.length), 'X-ClickHouse-Summary': summary(result) });
  res.end(out);
}

async function compressAll(compressor, data) {
  const chunks = [];
  compressor.on('data', (c) => chunks.push(c));
  compressor.end(data);
  await once(compressor, 'end');
  return Buffer.concat(chunks);
}

/**
 * Streams a SELECT the way a ClickHouse server does: the engine writes the query's output, in the requested
 * format, into a named pipe (`INSERT INTO FUNCTION file('<fifo>', <format>) SELECT ...`) and we relay its bytes.
 * One output per query (a single Parquet/Arrow/ORC file, one header, one JSON document), formatted by the
 * engine's parallel pipeline; chdb's block-by-block streaming API would encode every block as a whole new output.
 *
 * Returns false, having sent nothing, when the engine refused the wrapped statement for a reason the wrapping
 * itself causes (duplicate column names, ...): the caller then runs the statement as sent.
 */
async function streamThroughPipe(session, { select, mark, format, headers, encoding, holdAll, req, res, track }) {
  // The engine compresses (its own threads, no copy through a JS compressor) whenever it writes the coding.
  const engineCodes = encoding && encoding.suffix !== undefined;
  const suffix = engineCodes ? encoding.suffix : '';
  const fifo = await takeFifo(suffix);
  let settled = false; // the engine's statement ended: it holds the pipe no more
  if (engineCodes) await session.queryAsync(`SET output_format_compression_level = ${encoding.level}`);
  let pipe;
  try {
    // Non-blocking, so that opening does not wait for the engine's writer and reads never hold a thread.
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    pipe = new net.Socket({ fd, readable: true, writable: false });
    const statement = `${mark} INSERT INTO FUNCTION file(${stringLiteral(fifo)}, ${stringLiteral(format)}) ${select}`;
    const run = track(session.queryAsync(statement));
    const relay = relayPipe(pipe, { headers, encoding: engineCodes ? undefined : encoding, holdAll, res });
    let failure;
    await run.catch((err) => {
      failure = err;
    });
    settled = true;
    closeWriterSide(fifo);
    await relay.ended;
    if (!failure) {
      await relay.finish();
      return true;
    }
    if (relay.started) {
      await relay.fail(errorText(failure));
      return true;
    }
    if (WRAPPING_ERRORS.has(errorType(errorText(failure)))) return false;
    throw failure;
  } finally {
    if (pipe) pipe.destroy();
    if (settled && pipe) {
      if (pipe.closed) releaseFifo(fifo, suffix);
      else pipe.once('close', () => releaseFifo(fifo, suffix));
    } else fs.rm(fifo, { force: true }, () => undefined);
    if (res.destroyed) req.destroy();
  }
}

/**
 * Named pipes made ahead, FIFO_BATCH per `mkfifo` call, and reused: spawning mkfifo forks this process, which
 * blocks every request it serves for 3 ms at 100 MiB resident and 75-260 ms at 1 GiB (the engine's caches after a
 * few runs), and a batch per 8 queries held concurrent small runs back. A pipe that nobody holds open carries
 * nothing over, so once a query's statement has ended and its reader is closed, the pipe serves the next query
 * with the same codec suffix (given by renaming: file() takes the codec from the name). So the server makes pipes
 * only up to the most queries it streams at once.
 */
const FIFO_BATCH = 16;
const readyFifos = [];
/** Pipes free for reuse, by codec suffix ('' for none). */
const freeFifos = new Map();
let fifoRefill;

function releaseFifo(fifo, suffix) {
  if (!freeFifos.has(suffix)) freeFifos.set(suffix, []);
  freeFifos.get(suffix).push(fifo);
}

function refillFifos() {
  fifoRefill ??= (async () => {
    const names = Array.from({ length: FIFO_BATCH }, () => path.join(pipeDir, `${crypto.randomUUID()}.pipe`));
    await execFileAsync('mkfifo', ['-m', '0600', ...names]);
    readyFifos.push(...names);
  })().finally(() => {
    fifoRefill = undefined;
  });
  return fifoRefill;
}

async function takeFifo(suffix) {
  const reused = freeFifos.get(suffix)?.pop();
  if (reused) return reused;
  while (readyFifos.length === 0) await refillFifos();
  const fifo = readyFifos.pop();
  if (readyFifos.length < FIFO_BATCH / 2) refillFifos().catch(() => undefined);
  if (!suffix) return fifo;
  await fs.promises.rename(fifo, fifo + suffix);
  return fifo + suffix;
}

/**
 * The engine opens the pipe only once its pipeline starts; a statement that failed before that never opened it,
 * and a reader without any writer would wait forever. Opening and closing a writer ourselves makes the reader
 * see end-of-file right after whatever the engine wrote.
 */
function closeWriterSide(fifo) {
  try {
    fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
  } catch {
    // ENXIO: the reader is already gone, nothing to wake up.
  }
}

/**
 * Relays the pipe's bytes to the response with back-pressure. Holds the first HOLD_BYTES (all of them with
 * `wait_end_of_query=1`) so that a query failing early is answered with an error status instead of a 200.
 */
function relayPipe(pipe, { headers, encoding, holdAll, res }) {
  const held = [];
  let heldBytes = 0;
  let out;
  const state = { started: false };
  const exceptionTag = crypto.randomBytes(8).toString('hex');
  const clientGone = new Promise((resolve) => res.once('close', resolve));
  const start = (complete) => {
    state.started = true;
    const extra = complete && !encoding ? { 'Content-Length': String(heldBytes) } : {};
    res.writeHead(200, {
      ...headers,
      ...extra,
      'X-ClickHouse-Exception-Tag': exceptionTag,
      'X-ClickHouse-Summary': summary({}),
    });
    if (encoding) {
      out = encoding.create();
      out.pipe(res, { end: false });
    } else out = res;
    out.on('drain', () => pipe.resume());
    for (const b of held.splice(0)) write(b);
  };
  const write = (chunk) => {
    if (res.destroyed) return;
    if (!out.write(chunk)) pipe.pause();
  };
  pipe.on('data', (chunk) => {
    if (res.destroyed) return; // the client is gone: drain so the engine never blocks before it is killed
    if (state.started) return write(chunk);
    held.push(chunk);
    heldBytes += chunk.length;
    if (!holdAll && heldBytes >= HOLD_BYTES) start(false);
  });
  res.on('close', () => pipe.resume());
  const ended = new Promise((resolve) => {
    pipe.once('end', resolve);
    pipe.once('close', resolve);
  });
  /** Ends the compressor, if any, once it handed everything to the response; returns the bytes still to write. */
  const endOut = async (last) => {
    if (out === res) return last;
    out.end(last);
    await Promise.race([once(out, 'end'), clientGone]);
    return undefined;
  };
  return {
    ended,
    get started() {
      return state.started;
    },
    async finish() {
      if (!state.started) start(true);
      await endOut(undefined);
      res.end();
    },
    /**
     * A failure after the response started: ClickHouse (>= 25.11) appends an exception frame carrying the
     * response's tag, which @clickhouse/client turns into a ClickHouseError, and then breaks the connection
     * without the final chunk, so that every HTTP client sees an incomplete response rather than a short success.
     */
    async fail(message) {
      const msg = Buffer.from(`${message}\n`);
      const frame = Buffer.concat([
        Buffer.from(`\r\n__exception__\r\n${exceptionTag}\r\n`),
        msg,
        Buffer.from(`${msg.length} ${exceptionTag}\r\n__exception__\r\n`),
      ]);
      const last = await endOut(frame);
      if (res.destroyed) return;
      await new Promise((resolve) => {
        const abort = () => {
          res.destroy();
          resolve();
        };
        if (last) res.write(last, abort);
        else if (res.writableNeedDrain) res.once('drain', abort);
        else setImmediate(abort);
      });
    },
  };
}

/** Kills the statement carrying `mark` until it has stopped (it may not be registered yet when this starts). */
async function killWhileRunning(mark, running) {
  let stopped = false;
  running.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  const killer = new Session(dataDir);
  try {
    while (!stopped) {
      await killer.queryAsync(`KILL QUERY WHERE startsWith(query, ${stringLiteral(mark)}) ASYNC`).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    killer.close();
  }
}

function main() {
  if (!dataDir) throw new Error('OUTPORT_CH_DATA_DIR is required');
  pipeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outport-ch-pipes-'));
  refillFifos().catch(() => undefined);
  process.on('exit', () => fs.rmSync(pipeDir, { recursive: true, force: true }));
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
