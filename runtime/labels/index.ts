export { parseRunsOn, requestFromAlias, MAX_JIT_LABELS } from './parse.ts';
export { resolveRunner } from './resolve.ts';
export { validateAliases } from './validate.ts';
export { podSize, type RunnerPodSize } from './size.ts';
export { LabelError, LABEL_ERROR_REASONS, type LabelErrorReason } from './errors.ts';
export { matchAlias, expandTemplate, type AliasRule, type AliasMatch } from './aliases.ts';
export { findMarker, readMarker, MARKER, type MarkerLabel } from './markers.ts';
export type { Marker, NodeRequirement, ResolvedRunner, RunnerRequest } from './types.ts';
