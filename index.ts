// The Pulumi entry point: read and validate stack config, build everything, export the outputs.
// The program itself lives in infra/program.ts so tests can run it under mocks.
import { program } from './infra/program.ts';
import { readStackConfig } from './infra/read-config.ts';

const outputs = program(readStackConfig());

export const webhookUrl = outputs.webhookUrl;
export const loadBalancerHostname = outputs.loadBalancerHostname;
export const webhookDns = outputs.webhookDns;
export const githubAppSettings = outputs.githubAppSettings;
export const clusterName = outputs.clusterName;
export const kubeconfig = outputs.kubeconfig;
export const valkeyEndpoint = outputs.valkeyEndpoint;
export const systemNamespace = outputs.systemNamespace;
export const runnerNamespace = outputs.runnerNamespace;
export const nodePools = outputs.nodePools;
export const karpenterInterruptionQueue = outputs.karpenterInterruptionQueue;
export const configDocumentSha256 = outputs.configDocumentSha256;
export const bundleSha256 = outputs.bundleSha256;
