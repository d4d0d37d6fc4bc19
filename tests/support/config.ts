import { parseConfigDocument, type ConfigDocument, type ConfigDocumentInput } from '../../runtime/config/document.ts';

/** A small config document like Pulumi.dev.yaml's: three arm64 classes, one amd64, one pool. */
export function sampleDocument(overrides: Partial<ConfigDocumentInput> = {}): ConfigDocument {
  const arm = (cpu: number) => ({
    name: `${cpu}cpu-linux-arm64`, arch: 'arm64' as const, cpu, memoryGiB: cpu * 4, diskGiB: 50,
    instanceFamilies: ['c7g', 'm7g', 'c8g'], nodePoolCpuLimit: 400, maxDurationMinutes: 120,
  });
  return parseConfigDocument({
    classes: [
      arm(2), arm(4), arm(8),
      { name: '4cpu-linux-amd64', arch: 'amd64', cpu: 4, memoryGiB: 16, diskGiB: 100, instanceFamilies: ['c7i', 'm7i'], nodePoolCpuLimit: 200, capacityTypes: ['on-demand'] },
    ],
    pools: [{ name: 'default', class: '4cpu-linux-arm64', min: 1, max: 6 }],
    ...overrides,
  });
}
