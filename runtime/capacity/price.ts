import { instanceType, type InstanceTypeInfo } from './catalog.ts';

export type CapacityType = 'on-demand' | 'spot';

/**
 * Spot price as a fraction of on-demand. The catalog has no spot prices (they move hourly per
 * zone), so the model uses one ratio. Default 0.5, from AWS's own worked example of us-east-1
 * Spot prices (EC2 Auto Scaling User Guide, "Spot price per unit hour example"): c5.2xlarge
 * $0.170–0.191 vs $0.34 on-demand, c5.4xlarge $0.318–0.361 vs $0.68, i.e. 0.47–0.56. It is an
 * example the guide marks "not current pricing", so the ratio is a parameter: pass the one
 * your Spot Instance Advisor or bill shows.
 */
export const DEFAULT_SPOT_PRICE_RATIO = 0.5;

export interface PriceOptions {
  spotPriceRatio?: number;
}

/** USD per hour of one node: the catalog's us-east-1 on-demand price, times the spot ratio for spot. */
export function hourlyUsd(type: InstanceTypeInfo | string, capacityType: CapacityType, o: PriceOptions = {}): number {
  const t = typeof type === 'string' ? instanceType(type) : type;
  const ratio = o.spotPriceRatio ?? DEFAULT_SPOT_PRICE_RATIO;
  if (!(ratio > 0 && ratio <= 1)) throw new Error(`spotPriceRatio must be in (0, 1], got ${ratio}: spot costs a fraction of on-demand`);
  return capacityType === 'spot' ? t.onDemandUsdPerHour * ratio : t.onDemandUsdPerHour;
}

/** USD for node-seconds of one type and capacity type (EC2 bills Linux per second). */
export function costUsd(type: InstanceTypeInfo | string, capacityType: CapacityType, nodeSeconds: number, o: PriceOptions = {}): number {
  return (hourlyUsd(type, capacityType, o) * nodeSeconds) / 3600;
}
