// The Pulumi entry point: read and validate stack config, build everything, export the outputs.
// The program itself lives in infra/program.ts so tests can run it under mocks.
import * as pulumi from '@pulumi/pulumi';
import { program } from './infra/program.ts';
import { readStackConfig } from './infra/read-config.ts';
import { ConfigError } from './runtime/util/errors.ts';

function stackConfig() {
  try {
    return readStackConfig();
  } catch (err) {
    // RunError ends the run with just the message: every problem by config path, no stack trace.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const outputs = program(stackConfig());

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
