import { parseConfigDocument, type ConfigDocument } from '../../runtime/config/document.ts';

/**
 * A config document with classes chosen to exercise selection: ties on cpu and memory
 * broken by disk, a spot-only class, two architectures, pools on two classes.
 */
export function sampleDoc(aliases: unknown[] = []): ConfigDocument {
  return parseConfigDocument({
    classes: [
      // Listed out of size order on purpose: selection must not depend on config order.
      cls('16cpu-spot-arm64', 'arm64', 16, 64, 200, ['c8g'], ['spot']),
      cls('big-disk-arm64', 'arm64', 4, 16, 500, ['c7g']),
      cls('4cpu-linux-arm64', 'arm64', 4, 16, 50, ['c7g', 'm7g']),
      cls('8cpu-linux-amd64', 'amd64', 8, 32, 100, ['c7i', 'm7i']),
      cls('2cpu-linux-arm64', 'arm64', 2, 4, 30, ['c7g', 'm7g', 't4g']),
    ],
    pools: [
      { name: 'default', class: '4cpu-linux-arm64', min: 0, max: 4 },
      { name: 'spot16', class: '16cpu-spot-arm64', min: 0, max: 2 },
    ],
    aliases,
  });
}

function cls(name: string, arch: string, cpu: number, memoryGiB: number, diskGiB: number, instanceFamilies: string[], capacityTypes?: string[]) {
  return { name, arch, cpu, memoryGiB, diskGiB, instanceFamilies, nodePoolCpuLimit: 1000, ...(capacityTypes ? { capacityTypes } : {}) };
}
