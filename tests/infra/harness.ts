/**
 * The program-under-mocks harness for the infra and policy tests. The implementation
 * lives in infra/mock-run.ts so the offline plan command (infra/plan.ts) runs the very
 * same evaluation; see there for how it works and its limits.
 *
 * Specs import this module statically: a dynamic `import()` in a spec would load a
 * second copy of shared modules under tsx's CommonJS hook.
 */
export {
  PROJECT, MOCK_ACCOUNT, MOCK_OIDC_ISSUER, loadStackFile, fakeSecret, runProgram, ofType, one,
  type RecordedResource, type StackFile, type RunOptions, type ProgramRun,
} from '../../infra/mock-run.ts';
