import { qualifiedName, type ResourceType } from './resources.ts';

/** An API error as the real server reports it: an HTTP code plus a `Status` object body. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: { message: string; field?: string }[] },
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return statusBody('Failure', this.code, this.reason, this.message, this.details);
  }
}

export function statusBody(status: 'Success' | 'Failure', code: number, reason: string | undefined, message: string | undefined, details?: object) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status,
    ...(message !== undefined ? { message } : {}),
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  };
}

function d(t: ResourceType, name: string) {
  return { name, group: t.group, kind: t.plural };
}

export const errors = {
  notFound: (t: ResourceType, name: string) => new StatusError(404, 'NotFound', `${qualifiedName(t)} "${name}" not found`, d(t, name)),
  alreadyExists: (t: ResourceType, name: string) =>
    new StatusError(409, 'AlreadyExists', `${qualifiedName(t)} "${name}" already exists`, d(t, name)),
  conflict: (t: ResourceType, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(t)} "${name}": ${why}`, d(t, name)),
  invalid: (t: ResourceType, name: string, causes: { field: string; message: string }[]) =>
    new StatusError(
      422,
      'Invalid',
      `${t.kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { ...d(t, name), kind: t.kind, causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })) },
    ),
  badRequest: (message: string) => new StatusError(400, 'BadRequest', message),
  forbidden: (t: ResourceType, name: string, why: string) =>
    new StatusError(403, 'Forbidden', `${qualifiedName(t)} "${name}" is forbidden: ${why}`, d(t, name)),
  methodNotAllowed: (message: string) => new StatusError(405, 'MethodNotAllowed', message),
  unsupportedMediaType: (type: string) => new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got "${type}")`),
  expired: (message: string) => new StatusError(410, 'Expired', message),
  tooLarge: () => new StatusError(413, 'RequestEntityTooLarge', 'the request body is too large (limit 3 MiB)'),
  pathNotFound: (path: string) => new StatusError(404, 'NotFound', `the server could not find the requested resource (path ${path})`),
};
