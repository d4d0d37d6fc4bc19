import type { Marker } from './types.ts';

export const MARKER = 'runs-fleet';

export interface MarkerLabel {
  marker: Exclude<Marker, 'alias'>;
  label: string;
  /** Run id of the legacy `runs-fleet=<run-id>/…` form, when not empty. */
  runId?: string;
  /** The `k=v/k=v` part after the marker (and run id). */
  spec: string;
}

/**
 * The first label that is a runs-fleet marker: exactly `runs-fleet`, or starting with
 * `runs-fleet/` or `runs-fleet=`. Case-sensitive, no trimming, as in the original;
 * `runs-fleet-foo` and `runs-fleetish` belong to someone else.
 */
export function findMarker(labels: readonly string[]): MarkerLabel | undefined {
  for (const label of labels) {
    const found = readMarker(label);
    if (found) return found;
  }
  return undefined;
}

export function readMarker(label: string): MarkerLabel | undefined {
  if (label === MARKER) return { marker: 'runs-fleet', label, spec: '' };
  if (label.startsWith(`${MARKER}/`)) return { marker: 'runs-fleet/', label, spec: label.slice(MARKER.length + 1) };
  if (!label.startsWith(`${MARKER}=`)) return undefined;
  // `runs-fleet=${{ github.run_id }}/…`: the first segment is the run id. It may be
  // empty (`runs-fleet=`); the webhook payload's run_id is what the job uses.
  const rest = label.slice(MARKER.length + 1);
  const slash = rest.indexOf('/');
  const runId = slash < 0 ? rest : rest.slice(0, slash);
  const spec = slash < 0 ? '' : rest.slice(slash + 1);
  return runId ? { marker: 'runs-fleet=', label, runId, spec } : { marker: 'runs-fleet=', label, spec };
}
