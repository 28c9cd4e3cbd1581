import { bundleCliForTests } from '../scripts/bundle-cli';
import { bundleHandler } from '../scripts/bundle-handler';

/** Builds what tests run as separate processes from the current sources: the handler zip and the CLIs. */
export default function globalSetup(): void {
  bundleHandler();
  bundleCliForTests();
}
