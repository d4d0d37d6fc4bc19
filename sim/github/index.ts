export * from './double.ts';
export { decodeJitConfig, encodeJitConfig, type JitRunnerIdentity } from './jit-config.ts';
export * from './webhook-payload.ts';
export type { Fault } from './faults.ts';
