import { errors } from './errors.ts';
import { jsonEqual } from './equal.ts';

/** RFC 7386 JSON merge patch. Returns a new value; neither input is modified. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k], v);
  }
  return base;
}

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** RFC 6902 JSON patch. Throws a 422 StatusError when an operation cannot apply (as the API server does). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw errors.badRequest('a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops as Op[]) {
    if (!raw || typeof raw !== 'object' || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw errors.badRequest(`invalid JSON patch operation: ${JSON.stringify(raw)}`);
    doc = applyOp(doc, raw);
  }
  return doc;
}

function applyOp(doc: unknown, op: Op): unknown {
  switch (op.op) {
    case 'add':
      return setAt(doc, pointer(op.path), clone(op.value), 'add');
    case 'replace':
      get(doc, pointer(op.path), op);
      return setAt(doc, pointer(op.path), clone(op.value), 'replace');
    case 'remove':
      return removeAt(doc, pointer(op.path), op);
    case 'move': {
      const from = pointer(op.from ?? '');
      const v = get(doc, from, op);
      return setAt(removeAt(doc, from, op), pointer(op.path), v, 'add');
    }
    case 'copy':
      return setAt(doc, pointer(op.path), clone(get(doc, pointer(op.from ?? ''), op)), 'add');
    case 'test': {
      const v = get(doc, pointer(op.path), op);
      // RFC 6902 §4.6: objects are equal when they hold the same members, in any order (a client
      // echoes back what it read, serialised in its own key order, e.g. client-node's V1Taint).
      if (!jsonEqual(v, op.value)) throw unprocessable(`testing value ${op.path} failed`);
      return doc;
    }
    default:
      throw errors.badRequest(`unknown JSON patch operation "${op.op}"`);
  }
}

function unprocessable(message: string) {
  const e = errors.badRequest(message);
  return Object.assign(e, { code: 422, reason: 'Invalid' });
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw errors.badRequest(`JSON pointer "${p}" must start with "/"`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function get(doc: unknown, path: string[], op: Op): unknown {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      const i = Number(seg);
      if (!Number.isInteger(i) || i < 0 || i >= cur.length) throw unprocessable(`${op.op} operation does not apply: doc is missing path: ${op.path}`);
      cur = cur[i];
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, seg)) {
      cur = (cur as Record<string, unknown>)[seg];
    } else {
      throw unprocessable(`${op.op} operation does not apply: doc is missing path: ${op.path}`);
    }
  }
  return cur;
}

function setAt(doc: unknown, path: string[], value: unknown, mode: 'add' | 'replace'): unknown {
  if (path.length === 0) return value;
  const parent = get(doc, path.slice(0, -1), { op: mode, path: '/' + path.join('/') });
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else {
      const i = Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw unprocessable(`${mode} operation does not apply: index ${last} out of range`);
      if (mode === 'add') parent.splice(i, 0, value);
      else parent[i] = value;
    }
  } else if (parent !== null && typeof parent === 'object') {
    (parent as Record<string, unknown>)[last] = value;
  } else {
    throw unprocessable(`${mode} operation does not apply: parent of /${path.join('/')} is not a container`);
  }
  return doc;
}

function removeAt(doc: unknown, path: string[], op: Op): unknown {
  get(doc, path, op);
  const parent = get(doc, path.slice(0, -1), op);
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete (parent as Record<string, unknown>)[last];
  return doc;
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}
