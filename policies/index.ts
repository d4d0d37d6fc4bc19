// The policy pack the Pulumi CLI runs (`pulumi preview --policy-pack policies`). Only the
// construction lives here: `new PolicyPack` starts the analyzer's gRPC server at once, so
// tests and the offline plan import the policies from policies.ts instead.
import { PolicyPack } from '@pulumi/policy';
import { PACK, policies } from './policies.ts';

new PolicyPack(PACK.name, { policies, enforcementLevel: PACK.enforcementLevel, description: PACK.description });
