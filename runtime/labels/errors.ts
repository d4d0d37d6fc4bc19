import { PermanentError } from '../util/errors.ts';
import { echo, MAX_LABEL_LENGTH } from './bounds.ts';

/**
 * Every reason a label can be refused, as a closed list so that it can be a metric
 * label value and so dashboards can pre-create the series.
 */
export const LABEL_ERROR_REASONS = [
  // grammar
  'invalid_cpu',
  'invalid_ram',
  'invalid_arch',
  'invalid_family',
  'invalid_gen',
  'invalid_pool',
  'invalid_runner',
  'invalid_disk',
  'too_many_labels',
  'label_too_long',
  'invalid_alias',
  // resolution against the config document
  'unknown_class',
  'pool_class_mismatch',
  'no_matching_class',
  'impossible_size',
  'oversize_disk',
  'arch_mismatch',
  'family_not_in_class',
  'on_demand_unavailable',
] as const;
export type LabelErrorReason = (typeof LABEL_ERROR_REASONS)[number];

/**
 * A job whose runs-on labels cannot be served: no runner is created, the reason is
 * logged and counted. Permanent — the same labels fail the same way on every retry.
 */
export class LabelError extends PermanentError {
  override name = 'LabelError';
  declare readonly reason: LabelErrorReason;
  /** The runs-on label at fault, echoed (bounded): labels are workflow text, never secret, but may be huge. */
  readonly label: string;
  /** The message without the label prefix: what is wrong and how to fix it. */
  readonly detail: string;
  constructor(reason: LabelErrorReason, label: string, detail: string) {
    // Any label the parser accepts fits whole; only an overlong one (label_too_long) is cut.
    const shown = echo(label, MAX_LABEL_LENGTH);
    const said = echo(detail, 2_000);
    super(reason, `runs-on label "${shown}": ${said}`);
    this.label = shown;
    this.detail = said;
  }
}
